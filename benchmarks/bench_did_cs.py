"""Wall time and peak memory of Callaway–Sant'Anna att_gt + four aggregations.

mpdta replicated 50× (125,000 rows, 25,000 counties; county ids renumbered per copy,
``state = countyreal // 1000`` kept), outcome ``lemp``, never-treated controls, doubly
robust, no covariates; the job is ``att_gt`` followed by the simple, group, dynamic and
calendar aggregations, once with analytic SEs and once with 999 multiplier-bootstrap
draws. If csdid 0.4.3 is installed in another venv (``--csdid-python``, default
/tmp/csdid-venv/bin/python) the same job is timed there, side by side. Numbers are
printed, never asserted. Run with
``OMP_NUM_THREADS=1 python benchmarks/bench_did_cs.py``.

``--ri PANEL`` instead times the studentised randomisation inference of the staggered
analysis (``cs_randomization_inference``, never-treated controls, doubly robust,
pairwise) on a cleaned facility panel (``results/clean/panel_mopti.parquet`` of a
demo or national run), CPU seconds of the batched path and, with ``--ri-loop``, of the
loop that re-fits every assignment, with their largest difference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from sahel_eval.did import att_gt
from sahel_eval.did.cs.randomization import cs_randomization_inference

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("simple", "group", "dynamic", "calendar")


def replicate(copies: int) -> pd.DataFrame:
    """mpdta stacked ``copies`` times with county ids renumbered, state kept."""
    mpdta = pd.read_csv(ROOT / "tests" / "data" / "mpdta.csv")
    mpdta["state"] = mpdta["countyreal"] // 1000
    parts = []
    for k in range(copies):
        part = mpdta.copy()
        part["countyreal"] = part["countyreal"] + k * 100_000
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def job(df: pd.DataFrame, bootstrap: int | None) -> float:
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", bootstrap=bootstrap, seed=1)
    simple = None
    for kind in KINDS:
        agg = res.aggregate(kind)
        if kind == "simple":
            simple = float(agg.table["se"].iloc[0])
    return simple  # type: ignore[return-value]


def time_job(df: pd.DataFrame, bootstrap: int | None, repeats: int) -> tuple[float, float]:
    job(df, bootstrap)  # warm-up: imports and first-call caches
    best = float("inf")
    se = float("nan")
    for _ in range(repeats):
        t0 = time.perf_counter()
        se = job(df, bootstrap)
        best = min(best, time.perf_counter() - t0)
    return best, se


def peak_memory(df: pd.DataFrame, bootstrap: int | None) -> float:
    tracemalloc.start()
    job(df, bootstrap)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


CSDID_SCRIPT = r"""
import contextlib, io, json, sys, time, warnings
import numpy as np, pandas as pd
from csdid.att_gt import ATTgt
mpdta = pd.read_csv(sys.argv[1]); copies = int(sys.argv[2])
parts = []
for k in range(copies):
    p = mpdta.copy(); p["countyreal"] = p["countyreal"] + k * 100000; parts.append(p)
df = pd.concat(parts, ignore_index=True)
out = {}
for boot in (False, True):
    best = float("inf")
    for _ in range(int(sys.argv[3])):
        np.random.seed(1)
        t0 = time.perf_counter()
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            m = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      data=df, biters=999, cband=boot)
            f = m.fit(est_method="dr", bstrap=boot)
            for kind in ("simple", "group", "dynamic", "calendar"):
                f.aggte(typec=kind)
        best = min(best, time.perf_counter() - t0)
    out["bootstrap" if boot else "analytic"] = best
print(json.dumps(out))
"""


def csdid_times(python: str, copies: int, repeats: int) -> dict[str, float] | None:
    if not Path(python).exists():
        return None
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run(
        [
            python,
            "-c",
            CSDID_SCRIPT,
            str(ROOT / "tests" / "data" / "mpdta.csv"),
            str(copies),
            str(repeats),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        print(f"csdid run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_ri(panel_path: Path, outcome: str, loop: bool) -> None:
    """CPU time of the staggered analysis' RI, batched (and looped), on one panel."""
    panel = pd.read_parquet(panel_path)
    kw = dict(control="never_treated", method="dr", unbalanced="pairwise", seed=1)
    cols = ("facility_id", "t", "group", "district")
    runs = {}
    for path in ("auto", "loop") if loop else ("auto",):
        t0 = time.process_time()
        runs[path] = cs_randomization_inference(panel, outcome, *cols, path=path, **kw)
        res = runs[path]
        print(
            f"RI {res.path}: cpu_s={time.process_time() - t0:.2f} "
            f"assignments={res.permutations} quantities={len(res.table)} "
            f"facilities={panel['facility_id'].nunique()} months={panel['t'].nunique()}"
        )
    if loop:
        diff = max(
            float(np.nanmax(np.abs(runs["auto"].table[c] - runs["loop"].table[c])))
            for c in ("estimate", "se", "t", "p", "ci_low", "ci_high")
        )
        print(f"largest difference batched vs loop: {diff:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ri", type=Path, help="cleaned facility panel (parquet)")
    parser.add_argument("--ri-outcome", default="consultations_all_per_1000")
    parser.add_argument("--ri-loop", action="store_true")
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--csdid-python", default="/tmp/csdid-venv/bin/python")
    args = parser.parse_args()
    if args.ri is not None:
        bench_ri(args.ri, args.ri_outcome, args.ri_loop)
        return

    df = replicate(args.copies)
    print(
        f"data: {len(df):,} rows, {df['countyreal'].nunique():,} units; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    t_an, se_an = time_job(df, None, args.repeats)
    t_bs, se_bs = time_job(df, args.draws, args.repeats)
    m_an = peak_memory(df, None)
    m_bs = peak_memory(df, args.draws)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'job':<34}{'sahel_eval s':>13}{'peak MiB':>10}{'csdid s':>10}")
    cs = csdid_times(args.csdid_python, args.copies, args.repeats)
    cs_an = f"{cs['analytic']:.3f}" if cs else "n/a"
    cs_bs = f"{cs['bootstrap']:.3f}" if cs else "n/a"
    print(f"{'att_gt + 4 aggregations, analytic':<34}{t_an:>13.3f}{m_an:>10.1f}{cs_an:>10}")
    print(f"{f'  … with {args.draws} bootstrap draws':<34}{t_bs:>13.3f}{m_bs:>10.1f}{cs_bs:>10}")
    print(f"simple-aggregation SE: analytic {se_an:.6f}, bootstrap {se_bs:.6f}")
    print(f"process max RSS: {rss:.0f} MiB (best of {args.repeats} runs after a warm-up)")


if __name__ == "__main__":
    main()
