"""Generate csdid_reference.json: csdid 0.4.3 results on mpdta variants.

csdid is a test-only cross-check for the options that have no published values
(ipw, reg, not-yet-treated, universal base period, anticipation, repeated
cross-sections, unbalanced panels, sampling weights, clusters). It pins packaging and
pulls in plotnine/twine, so it lives in its own venv, not in the project's:

    python3 -m venv /tmp/csdid-venv
    /tmp/csdid-venv/bin/pip install csdid==0.4.3
    OMP_NUM_THREADS=1 /tmp/csdid-venv/bin/python tests/data/make_csdid_reference.py

Each case declares its data variant as pandas ``eval``/``query`` strings so that
tests/did/test_callaway_santanna.py rebuilds exactly the same data.
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent

# Data variants applied to mpdta (pandas eval / query strings).
VARIANTS = {
    "mpdta": {},
    "weights": {"assign": {"sw": "1 + (countyreal % 5) * 0.25"}},
    "state": {"assign": {"state": "countyreal // 1000"}},
    "unbalanced": {
        "query": "not ((countyreal % 11 == 0 and year == 2005) or "
        "(countyreal % 13 == 0 and year == 2007))"
    },
    # anticipation = 1 leaves cohort 2004 without a pre-period: R/csdid drop it with a
    # warning, sahel_eval raises, so the cohort is removed from the data up front.
    "no2004": {"query": "`first.treat` != 2004"},
    "rc_subsample": {
        "query": "(countyreal + year) % 3 != 0",
        "assign": {"sw": "1 + (countyreal % 5) * 0.25"},
    },
}

# name -> (variant, att_gt options in sahel_eval terms)
CASES = {
    "ipw_nocov": ("mpdta", {"method": "ipw"}),
    "ipw_lpop": ("mpdta", {"method": "ipw", "covariates": ["lpop"]}),
    "reg_lpop": ("mpdta", {"method": "reg", "covariates": ["lpop"]}),
    "dr_lpop_notyet": ("mpdta", {"control": "not_yet_treated", "covariates": ["lpop"]}),
    "ipw_lpop_notyet": (
        "mpdta",
        {"method": "ipw", "control": "not_yet_treated", "covariates": ["lpop"]},
    ),
    "dr_nocov_universal": ("mpdta", {"base_period": "universal"}),
    "dr_lpop_universal_notyet": (
        "mpdta",
        {"base_period": "universal", "covariates": ["lpop"], "control": "not_yet_treated"},
    ),
    "dr_lpop_anticipation1": (
        "no2004",
        {"anticipation": 1, "covariates": ["lpop"], "control": "not_yet_treated"},
    ),
    "dr_lpop_weights": ("weights", {"covariates": ["lpop"], "weights": "sw"}),
    "reg_lpop_weights": ("weights", {"method": "reg", "covariates": ["lpop"], "weights": "sw"}),
    "dr_lpop_cluster_state": ("state", {"covariates": ["lpop"], "cluster": "state"}),
    "dr_lpop_unbalanced": ("unbalanced", {"covariates": ["lpop"]}),
    "reg_nocov_unbalanced": ("unbalanced", {"method": "reg"}),
    "rc_dr_lpop": ("mpdta", {"panel": False, "covariates": ["lpop"]}),
    "rc_ipw_lpop": ("mpdta", {"panel": False, "method": "ipw", "covariates": ["lpop"]}),
    "rc_reg_lpop": ("mpdta", {"panel": False, "method": "reg", "covariates": ["lpop"]}),
    "rc_dr_lpop_weights_sub": (
        "rc_subsample",
        {"panel": False, "covariates": ["lpop"], "weights": "sw"},
    ),
    "rc_dr_nocov_notyet_universal": (
        "mpdta",
        {"panel": False, "control": "not_yet_treated", "base_period": "universal"},
    ),
}


def make_variant(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Apply a variant spec (same code as the test file)."""
    out = df.copy()
    for col, expr in spec.get("assign", {}).items():
        out[col] = out.eval(expr)
    if "query" in spec:
        out = out.query(spec["query"]).reset_index(drop=True)
    return out


def _floats(x) -> list[float | None]:
    return [None if v is None or not np.isfinite(v) else float(v) for v in np.ravel(x)]


def run_case(df: pd.DataFrame, opts: dict) -> dict:
    from csdid.att_gt import ATTgt

    cov = opts.get("covariates", [])
    xformla = "lemp~" + ("+".join(cov) if cov else "1")
    panel = opts.get("panel", True)
    unbalanced = panel and len(df) != df["countyreal"].nunique() * df["year"].nunique()
    model = ATTgt(
        yname="lemp",
        tname="year",
        idname="countyreal" if panel else None,
        gname="first.treat",
        data=df,
        control_group=(
            "notyettreated" if opts.get("control") == "not_yet_treated" else "nevertreated"
        ),
        xformla=xformla,
        panel=panel,
        allow_unbalanced_panel=unbalanced,
        clustervar=opts.get("cluster"),
        weights_name=opts.get("weights"),
        anticipation=opts.get("anticipation", 0),
        cband=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(
            est_method=opts.get("method", "dr"),
            base_period=opts.get("base_period", "varying"),
            bstrap=False,
        )
    r = fit.results
    out = {
        "att_gt": {
            "group": _floats(r["group"]),
            "time": _floats(r["year"]),
            "att": _floats(r["att"]),
            "se": _floats(r["se"]),
        },
        "pretest": {
            "W": None if fit.MP["W"] is None else float(fit.MP["W"]),
            "p": None if fit.MP["Wpval"] is None else float(fit.MP["Wpval"]),
        },
    }
    for kind in ("simple", "group", "dynamic", "calendar"):
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            agg = fit.aggte(typec=kind, bstrap=False, cband=False)
        a = agg.atte if hasattr(agg, "atte") else agg
        out[kind] = {
            "overall_att": float(a["overall_att"]),
            "overall_se": float(a["overall_se"]),
            "egt": None if a["egt"] is None else _floats(a["egt"]),
            "att_egt": None if a["att_egt"] is None else _floats(a["att_egt"]),
            "se_egt": None if a["se_egt"] is None else _floats(a["se_egt"]),
        }
    return out


def main() -> None:
    import csdid

    mpdta = pd.read_csv(HERE / "mpdta.csv")
    result = {
        "generator": "tests/data/make_csdid_reference.py",
        "csdid_version": getattr(csdid, "__version__", "0.4.3"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "variants": VARIANTS,
        "cases": {},
    }
    for name, (variant, opts) in CASES.items():
        df = make_variant(mpdta, VARIANTS[variant])
        result["cases"][name] = {"variant": variant, "options": opts, **run_case(df, opts)}
        print("done", name)
    (HERE / "csdid_reference.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
