"""qmdb check: run the project's slice checks, print a table, write JUnit XML, exit 1 when one fails."""

import argparse
from pathlib import Path

from ..database import project
from ..evaluation.checks import junit_xml, run_checks
from ..output import print_table
from . import COMMANDS

NAME = "check"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--model", "-m", action="append", help="the model to check (repeat; default: each check's, "
                                                               "else every evaluated model)")
    parser.add_argument("--baseline", "-b", help="a model or an earlier run's name, for checks that compare with one")
    parser.add_argument("--check", "-c", action="append", dest="names", help="run only this check (repeat)")
    parser.add_argument("--run", help="a name for this run (default run-N), usable later as --baseline")
    parser.add_argument("--junit", metavar="FILE", help="write the results as JUnit XML")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples for the intervals (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--max-width", type=int, metavar="N", help="table width (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    with project(args.database) as con:
        results = run_checks(con, model=args.model, baseline=args.baseline, names=args.names, run=args.run,
                             n_boot=args.n_boot, seed=args.seed)
        run_id = results[0].run_id
        print_table(con.sql("SELECT check_name AS check, model, status, figure, round(value, 4) AS value, "
                            "round(low, 4) AS low, round(high, 4) AS high, images, reason "
                            "FROM check_runs WHERE run_id = ? ORDER BY check_name, model", params=[run_id]),
                    max_rows=1000, max_width=args.max_width)
    if args.junit:
        Path(args.junit).write_text(junit_xml(results), encoding="utf-8")
    failed = sum(r.status == "fail" for r in results)
    print(f"{len(results) - failed} of {len(results)} checks passed" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0
