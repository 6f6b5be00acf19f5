"""Write imputation_reference.json: cross-check values from PyPI ``did-imputation``.

``did-imputation`` 0.1.0 (Georgii Marinichev, NES; PyPI ``did_imputation``) is an
independent Python port of Borusyak's Stata command ``did_imputation`` (Borusyak,
Jaravel & Spiess 2024). It needs its own dependency versions (pyhdfe, numpy 2, pandas
3), so it lives in its own venv, never in the project's:

    python3.11 -m venv /work/imp-venv
    /work/imp-venv/bin/pip install did-imputation==0.1.0
    cd tests/data && /work/imp-venv/bin/python -W ignore make_imputation_reference.py

(a few seconds). Recorded, on mpdta (outcome lemp, unit countyreal, time year, cohort
first.treat with 0 = never treated, clustered by county, Stata's defaults:
``avgeffectsby(Ei t)``):

- the overall ATT (every treated observation weighted equally) and its SE;
- event-time ATTs for horizons 0–3 and their SEs (``minn(0)``: no horizon suppressed);
- the same with analytic weights ``aw = exp(lpop)`` (county population);
- pre-trend coefficients for 3 leads and their SEs (the paper's Test 1).

The port prints the Stata command's warnings (few treated units per cohort); they
are about the reliability of the conservative SE, not the values recorded.
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from did_imputation import did_imputation

HERE = Path(__file__).resolve().parent


def _run(df: pd.DataFrame, **kw) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        out = did_imputation(
            df.copy(), "lemp", "countyreal", "year", "Ei", cluster="countyreal", minn=0, **kw
        )
    return {
        "estimates": {k: float(v) for k, v in out.estimates.items()},
        "se": {k: float(v) for k, v in out.std_errors.items()},
        "pretrends": None
        if out.pretrends_estimates is None
        else {k: float(v) for k, v in out.pretrends_estimates.items()},
        "pretrends_se": None
        if out.pretrends_std_errors is None
        else {k: float(v) for k, v in out.pretrends_std_errors.items()},
    }


def main() -> None:
    df = pd.read_csv(HERE / "mpdta.csv")
    df["Ei"] = df["first.treat"].where(df["first.treat"] > 0, np.nan)
    df["aw"] = np.exp(df["lpop"])
    ref = {
        "source": (
            "did-imputation 0.1.0 (PyPI), a Python port of Stata's did_imputation "
            "(Borusyak, Jaravel & Spiess 2024); written by make_imputation_reference.py"
        ),
        "versions": {
            "python": platform.python_version(),
            "did_imputation": version("did_imputation"),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pyhdfe": version("pyhdfe"),
        },
        "overall": _run(df),
        "horizons": _run(df, horizons=[0, 1, 2, 3]),
        "overall_weighted": _run(df, aw="aw"),
        "horizons_weighted": _run(df, aw="aw", horizons=[0, 1, 2, 3]),
        "pretrends": _run(df, pretrends=3),
    }
    (HERE / "imputation_reference.json").write_text(
        json.dumps(ref, indent=2, sort_keys=True) + "\n"
    )


if __name__ == "__main__":
    main()
