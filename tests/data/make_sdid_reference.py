"""Write sdid_reference.json (and sdid_sim.csv): cross-check values from PyPI ``synthdid``.

``synthdid`` 0.10.1 (D2CML, github.com/d2cml-ai/synthdid.py, MIT) is an independent
Python port of the R package. It pins old numpy/pandas, so it lives in its own venv,
never in the project's:

    /work/main/.venv/bin/python -m venv --system-site-packages /work/sdid-venv
    /work/sdid-venv/bin/pip install --no-deps synthdid==0.10.1
    /work/sdid-venv/bin/pip install numpy==1.26.4 pandas==2.1.4 matplotlib==3.8.4
    cd tests/data && /work/sdid-venv/bin/python -W ignore make_sdid_reference.py

(about two minutes). What is recorded, and what it can check:

- Proposition 99 (shared/data/prop99.csv): its SDID and DiD estimates and SDID
  weights (its SC variant fits ω with an intercept and λ = 1/T0, not R's
  ``sc_estimate``, so it is not recorded);
- the "cold" placebo estimates: each of the 38 controls as the treated unit, fitted
  from scratch on the other 37 controls (noise level and ζ recomputed, uniform start).
  This is what its ``placebo_se`` computes for one draw; it is not R's Algorithm 4,
  which keeps the full sample's ζ and warm-starts at its weights, so it checks the
  solver on 38 more panels, not the placebo SE itself;
- a simulated panel with 5 treated units (written to sdid_sim.csv by this script, so
  the test does not depend on a random generator): estimates and weights.

Its ``att`` is rounded to 5 decimals; ``att_info.att_time`` (recorded) is not.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from synthdid.sdid import sdid
from synthdid.synthdid import Synthdid

HERE = Path(__file__).resolve().parent
PROP99 = Path("/work/shared/data/prop99.csv")


def simulated_panel() -> pd.DataFrame:
    """30 units × 20 periods, 5 treated from period 15, interactive fixed effects, τ = 3."""
    rng = np.random.default_rng(20240601)
    n, t, n1, t0, tau = 30, 20, 5, 14, 3.0
    alpha = rng.normal(0, 2, n)
    beta = np.cumsum(rng.normal(0, 0.5, t))
    load = rng.normal(1, 0.5, n)
    load[-n1:] += 0.5
    factor = np.sin(np.arange(t) / 3)
    y = alpha[:, None] + beta[None, :] + load[:, None] * factor[None, :]
    y = y + rng.normal(0, 0.3, (n, t))
    treated = np.zeros((n, t), dtype=int)
    treated[-n1:, t0:] = 1
    y = y + tau * treated
    units = [f"u{i:02d}" for i in range(n)]
    return pd.DataFrame(
        {
            "unit": np.repeat(units, t),
            "period": np.tile(np.arange(2001, 2001 + t), n),
            "y": np.round(y.ravel(), 6),
            "treated": treated.ravel(),
        }
    )


def fit(df: pd.DataFrame, unit: str, time: str, treat: str, outcome: str, **kw: bool) -> dict:
    m = Synthdid(df, unit, time, treat, outcome).fit(**kw)
    out = {"att": float(m.att_info["att_time"].iloc[0])}
    units = [str(u) for u in m.Y_units[0]]
    n0 = len(m.weights["omega"][0])
    if not kw:
        out["omega"] = dict(zip(units[:n0], map(float, m.weights["omega"][0]), strict=True))
        out["lambda"] = [float(v) for v in m.weights["lambda"][0]]
    return out


def cold_placebo(df: pd.DataFrame) -> dict[str, float]:
    controls = df[df.groupby("state")["treated"].transform("max") == 0]
    out = {}
    for state in sorted(controls["state"].unique()):
        fake = controls.assign(
            treated=((controls["state"] == state) & (controls["year"] >= 1989)).astype(int)
        )
        res = sdid(fake, "state", "year", "treated", "packspercapita")
        out[state] = float(res["att_info"]["att_time"].iloc[0])
    return out


def main() -> None:
    prop99 = pd.read_csv(PROP99)
    sim = simulated_panel()
    sim.to_csv(HERE / "sdid_sim.csv", index=False)
    args = ("state", "year", "treated", "packspercapita")
    sargs = ("unit", "period", "treated", "y")
    placebo = cold_placebo(prop99)
    ref = {
        "produced_by": {
            "package": f"synthdid {version('synthdid')} (PyPI)",
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
            "command": "cd tests/data && /work/sdid-venv/bin/python -W ignore "
            "make_sdid_reference.py",
        },
        "prop99": {
            "sdid": fit(prop99, *args),
            "did": fit(prop99, *args, did=True),
            "cold_placebo": placebo,
            "cold_placebo_sd": float(np.std(list(placebo.values()))),
        },
        "sim": {
            "sdid": fit(sim, *sargs),
            "did": fit(sim, *sargs, did=True),
        },
    }
    (HERE / "sdid_reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps({k: v for k, v in ref["prop99"].items() if k != "cold_placebo"})[:400])
    print(ref["sim"]["sdid"]["att"], ref["sim"]["did"]["att"], file=sys.stderr)


if __name__ == "__main__":
    main()
