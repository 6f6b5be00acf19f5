"""Command line: ``python -m sahel_eval.synth --out data/raw [--scale national] [--seed N]``."""

from __future__ import annotations

import argparse

from . import generate
from .params import DEFAULT_SEED, SCALES


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and write the synthetic data set."""
    ap = argparse.ArgumentParser(prog="python -m sahel_eval.synth", description=__doc__)
    ap.add_argument("--out", required=True, help="folder to write (e.g. data/raw)")
    ap.add_argument("--scale", default="demo", choices=sorted(SCALES))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    t = generate(args.out, scale=args.scale, seed=args.seed)
    print(
        f"wrote {args.out}: {t['facilities']['n']} facilities, "
        f"{len(t['surveys']['files'])} survey files, scale={args.scale}, seed={args.seed}"
    )


if __name__ == "__main__":
    main()
