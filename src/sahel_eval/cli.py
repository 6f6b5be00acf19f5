"""Command line: ``sahel-eval check`` and ``sahel-eval ingest <kind>``.

Bad input exits with status 2 and the error's message (one line, then details) on
stderr, never a traceback: the person running it needs the file, column and rule.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sahel_eval import ingest
from sahel_eval.config import load_config
from sahel_eval.errors import InputError

EXIT_INPUT_ERROR = 2
SINGLE_KINDS = ingest.SINGLE_FILE_INGESTERS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="sahel-eval", description="Evaluation pipeline for health-financing programmes."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate the config and every input; write nothing")
    check.add_argument("--config", default="config/config.yaml", type=Path)

    ing = sub.add_parser("ingest", help="ingest one input into results/interim/")
    ing.add_argument("kind", choices=[*SINGLE_KINDS, "survey", "mutuals"])
    ing.add_argument("--config", default="config/config.yaml", type=Path)
    ing.add_argument("--out", required=True, type=Path, help="parquet file to write")
    ing.add_argument(
        "--src",
        nargs="+",
        type=Path,
        default=None,
        help="raw file(s); default: the path(s) in the config",
    )
    ing.add_argument("--year", type=int, help="survey: round year")
    ing.add_argument(
        "--unit", choices=["households", "women", "births", "children"], help="survey: unit"
    )
    ing.add_argument("--labels-out", type=Path, help="survey: JSON sidecar of labels")
    ing.add_argument(
        "--facilities",
        type=Path,
        help="population/programmes/district_population: interim facilities parquet to check "
        "facility UIDs (districts)",
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.command == "check":
        errors = ingest.check_inputs(config)
        for error in errors:
            print(error.message, file=sys.stderr)
        if errors:
            print(f"{len(errors)} input file(s) failed the checks.", file=sys.stderr)
            return EXIT_INPUT_ERROR
        print("all inputs pass the checks")
        return 0

    src = args.src[0] if args.src and args.kind != "mutuals" else None
    if args.kind == "survey":
        if args.year is None or args.unit is None or args.labels_out is None:
            build_parser().error("ingest survey needs --year, --unit and --labels-out")
        ingest.ingest_survey(
            config,
            year=args.year,
            unit=args.unit,
            src=src,
            out=args.out,
            labels_out=args.labels_out,
        )
    elif args.kind == "mutuals":
        ingest.ingest_mutuals(config, srcs=args.src, out=args.out)
    else:
        kwargs = {}
        if args.facilities is not None and args.kind in {"population", "programmes"}:
            kwargs["facility_ids"] = pd.read_parquet(args.facilities, columns=["orgunit_uid"])[
                "orgunit_uid"
            ].tolist()
        if args.facilities is not None and args.kind == "district_population":
            districts = pd.read_parquet(args.facilities, columns=["district"])["district"]
            kwargs["districts"] = districts.unique().tolist()
        SINGLE_KINDS[args.kind](config, src=src, out=args.out, **kwargs)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sahel-eval`` and ``python -m sahel_eval``.

    Returns
    -------
    int
        0 on success, 2 on bad input or config.
    """
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as error:
        print(error.message, file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
