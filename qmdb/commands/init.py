"""qmdb init: create a project database."""

import argparse

from ..database import connect
from ..schema import schema_version

NAME = "init"
HELP = "create (or migrate) a project database"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")


def run(args: argparse.Namespace) -> int:
    con = connect(args.database)
    versions = ", ".join(f"{c} v{v}" for c, v in schema_version(con).items())
    print(f"{args.database}: schema {versions}")
    return 0
