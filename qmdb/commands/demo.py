"""qmdb demo: build the demo project from real images and show what is in it."""

import argparse
import time
from pathlib import Path

from ..database import project
from . import COMMANDS

NAME = "demo"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="demo.duckdb", help="database to build (default: demo.duckdb)")
    parser.add_argument("--data", help="folder for the generated files (default: demo_data/ beside the database)")
    parser.add_argument("--fresh", action="store_true", help="delete the database first and build it again")
    parser.add_argument("--no-post", action="store_true", help="skip metrics, embeddings and evaluation")


def run(args: argparse.Namespace) -> int:
    from ..demo import build
    from ..demo.report import show

    start = time.perf_counter()
    db_path = build(args.db, args.data, fresh=args.fresh, post_import=not args.no_post)
    elapsed = time.perf_counter() - start
    with project(db_path) as con:
        show(con, Path(args.db), elapsed)
    return 0
