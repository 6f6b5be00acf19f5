"""Wall time and peak memory of the imputation estimator and of synthetic DiD, beside peers.

* ``imputation``: mpdta replicated 50× (125,000 rows; :func:`bench_did_cs.replicate`),
  outcome ``lemp``, overall ATT and horizons 0–3, BJS conservative SEs clustered by
  county; beside it the same job in ``did-imputation`` 0.1.0 (PyPI port of Stata's
  ``did_imputation``; ``--imp-python``, default /work/imp-venv/bin/python).
* ``sdid``: the stage's synthetic-DiD fits (:func:`~sahel_eval.did.analyses.synthetic.
  synthetic_fits`: commune and CSCOM level, placebo SEs with the config's
  ``did.synthdid_reps``) on the Bamako panel of one replicate of the national-scale
  design (≈ 1,400 CSCOMs, :func:`~sahel_eval.synth.replicates.design` ``"national"``),
  or with ``--panel`` on the pipeline's own ``results/clean/panel_bamako.parquet`` of a
  national run (``bench_pipeline.py national``), first outcome of the analysis; beside
  it the CSCOM-level block in ``synthdid`` 0.10.1 (PyPI port of the R package;
  ``--sdid-python``, default /work/sdid-venv/bin/python), whose placebo SE always draws
  50 placebos, so ours is also timed with 50.

Every job runs in a fresh process, so peak memory (``ru_maxrss``) is the job's own,
imports included; CPU seconds are printed beside wall time (on a shared machine they
are the comparable number). Numbers are printed, never asserted. Run with
``OMP_NUM_THREADS=1 python benchmarks/bench_second_opinion.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

# Each snippet prints {"wall": s, "peak_mb": MB, ...} for one job in its own process.
_PRELUDE = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
"""
_OURS_IMP = """
from bench_did_cs import replicate
from sahel_eval.did import imputation
df = replicate({copies})
t0, c0 = time.perf_counter(), time.process_time()
res = imputation(df, "lemp", "countyreal", "year", "first.treat", horizons=[0, 1, 2, 3],
                 cluster="countyreal")
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
est = float(res.table["estimate"].iloc[0])
"""
_PEER_IMP = """
import contextlib, io
import numpy as np, pandas as pd
from did_imputation import did_imputation
mpdta = pd.read_csv({mpdta!r})
df = pd.concat([mpdta.assign(countyreal=mpdta["countyreal"] + k * 100_000)
                for k in range({copies})], ignore_index=True)
df["Ei"] = df["first.treat"].where(df["first.treat"] > 0, np.nan)
t0, c0 = time.perf_counter(), time.process_time()
with contextlib.redirect_stdout(io.StringIO()):
    out = did_imputation(df, "lemp", "countyreal", "year", "Ei", cluster="countyreal",
                         minn=0, horizons=[0, 1, 2, 3])
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
est = None
"""
_OURS_SDID = """
import pandas as pd
from sahel_eval.config import load_config
from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.did.analyses.facility import _end_t, _variable
from sahel_eval.did.analyses.fits import _Outcome
from sahel_eval.did.analyses.synthetic import synthetic_fits, _facility_block
from sahel_eval.synth.replicates import design, facility_panels
config = load_config({config!r})
settings = AnalysisSettings.from_config(config)
if {reps}:
    import dataclasses
    settings = dataclasses.replace(settings, synthdid_reps={reps})
spec = next(a for a in config["analyses"] if a["design"] == "single_start")
panel = (pd.read_parquet({panel!r}) if {panel!r}
         else facility_panels(design("national"), 1)["bamako"])
outcome = spec["outcomes"][0]
o = _Outcome(spec, panel, outcome, _variable(panel, outcome, spec, settings), settings)
block, _ = _facility_block(o, _end_t(panel))
block.to_csv({block!r}, index=False)
t0, c0 = time.perf_counter(), time.process_time()
fits = synthetic_fits(o, _end_t(panel))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
est = [float(f.rows["estimate"].iloc[0]) for f in fits]
extra = dict(units=int(block["facility_id"].nunique()), months=int(block["t"].nunique()),
             treated=int(block.loc[block["treat"] == 1, "facility_id"].nunique()),
             reps=settings.synthdid_reps)
"""
_PEER_SDID = """
import pandas as pd
from synthdid.synthdid import Synthdid
block = pd.read_csv({block!r})
t0, c0 = time.perf_counter(), time.process_time()
m = Synthdid(block, "facility_id", "t", "treat", "y").fit().vcov(method="placebo")
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
est = float(m.att_info["att_time"].iloc[0])
"""
_REPORT = """
extra = globals().get("extra", {{}})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(wall=wall, cpu=cpu, peak_mb=peak, estimate=est, **extra)))
"""


def _job(python: str, body: str, **fmt: object) -> dict | str:
    code = (_PRELUDE + body + _REPORT).format(here=str(HERE), **fmt)
    if not Path(python).is_file():
        return f"not run: no interpreter at {python}"
    proc = subprocess.run(
        [python, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode:
        return f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else '?'}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _line(name: str, res: dict | str) -> str:
    if isinstance(res, str):
        return f"{name:<44} {res}"
    rest = {k: v for k, v in res.items() if k not in ("wall", "cpu", "peak_mb")}
    return (
        f"{name:<44} wall {res['wall']:7.2f} s  CPU {res['cpu']:7.2f} s  "
        f"peak {res['peak_mb']:7.0f} MB  {rest}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("imputation", "sdid"))
    ap.add_argument("--copies", type=int, default=50)
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--panel", default="", help="a national run's panel_bamako.parquet")
    ap.add_argument("--imp-python", default="/work/imp-venv/bin/python")
    ap.add_argument("--sdid-python", default="/work/sdid-venv/bin/python")
    args = ap.parse_args()
    py = sys.executable
    if args.only in (None, "imputation"):
        print(f"imputation, mpdta x{args.copies} (overall + horizons 0-3, county clusters)")
        mpdta = str(ROOT / "tests" / "data" / "mpdta.csv")
        print(_line("  sahel_eval.did.imputation", _job(py, _OURS_IMP, copies=args.copies)))
        peer = _job(args.imp_python, _PEER_IMP, copies=args.copies, mpdta=mpdta)
        print(_line("  did-imputation 0.1.0 (PyPI)", peer))
    if args.only in (None, "sdid"):
        print("synthetic DiD, national Bamako panel (commune + CSCOM level, placebo SEs)")
        with tempfile.TemporaryDirectory() as tmp:
            block = str(Path(tmp) / "block.csv")
            for reps in (0, 50):
                label = "config reps" if not reps else "50 placebos"
                res = _job(
                    py, _OURS_SDID, config=args.config, reps=reps, block=block, panel=args.panel
                )
                print(_line(f"  synthetic_fits ({label})", res))
            peer = _job(args.sdid_python, _PEER_SDID, block=block)
            print(_line("  synthdid 0.10.1 (PyPI), CSCOM level, 50", peer))


if __name__ == "__main__":
    main()
