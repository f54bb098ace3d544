"""qmdb sql: run a query against a project (read-only unless --write)."""

import argparse

import duckdb

from ..database import project
from ..errors import QmdbError
from ..output import FORMATS, write
from . import COMMANDS
from .arguments import table_options

NAME = "sql"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("query", help="the SQL to run")
    parser.add_argument("--write", action="store_true", help="open the project for writing (INSERT, DROP, …)")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table",
                        help="table (default), vertical (one line per column), csv, json, parquet")
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    table_options(parser)


def run(args: argparse.Namespace) -> int:
    with project(args.database, read_only=not args.write) as con:
        try:
            relation = con.sql(args.query)
        except duckdb.InvalidInputException as error:
            if args.write or "read-only mode" not in str(error):
                raise
            raise QmdbError(f"{str(error).strip().splitlines()[0]} (qmdb sql is read-only: add --write to change "
                            "the project)") from None
        if relation is None:
            print("ok")
            return 0
        write(relation, args.format, args.output, max_rows=args.max_rows, max_width=args.max_width)
    return 0
