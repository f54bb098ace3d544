"""qmdb sql: run a query against a project."""

import argparse

from ..database import connect
from ..output import FORMATS, write

NAME = "sql"
HELP = "run a SQL query and print a table, or write CSV / JSON lines / Parquet"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("query", help="the SQL to run")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    parser.add_argument("--max-rows", type=int, default=40, help="rows shown in table format")


def run(args: argparse.Namespace) -> int:
    con = connect(args.database)
    relation = con.sql(args.query)
    if relation is None:
        print("ok")
        return 0
    if args.format == "table":
        relation.show(max_rows=args.max_rows, max_width=160)
    else:
        write(relation, args.format, args.output)
    return 0
