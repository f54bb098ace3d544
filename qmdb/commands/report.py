"""qmdb report: what is wrong with this dataset, in one report (`data_issues` counted, ranked, shown)."""

import argparse

from ..database import project
from ..health import report
from . import COMMANDS

NAME = "report"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--dataset", help="one dataset (default: every dataset)")
    parser.add_argument("--examples", type=int, default=5, help="worst examples per issue type (default 5)")
    parser.add_argument("--output", "-o", help="write a self-contained HTML page here instead of text")


def run(args: argparse.Namespace) -> int:
    title = f"qmdb health report: {args.database}" + (f", dataset {args.dataset}" if args.dataset else "")
    with project(args.database, read_only=True) as con:
        summaries = report.summarize(con, dataset=args.dataset, db=args.database, examples=args.examples)
        splits = report.split_findings(con, dataset=args.dataset, db=args.database)
        if args.output:
            report.write(con, args.output, summaries, title=title, splits=splits)
            print(f"wrote {args.output}: {len(summaries)} issue types, "
                  f"{sum(s.issues for s in summaries)} issues")
        else:
            print(report.text(summaries, title=title, splits=splits))
    return 0
