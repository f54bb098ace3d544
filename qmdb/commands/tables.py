"""qmdb tables: list a project's tables with their columns and row counts."""

import argparse

from ..database import project
from ..output import print_table
from . import COMMANDS

NAME = "tables"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--max-width", type=int, metavar="N", help="table width (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    with project(args.database, read_only=True) as con:
        print_table(con.sql(
            "SELECT t.table_name AS \"table\", t.estimated_size AS rows, "
            "string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.column_index) AS columns "
            "FROM duckdb_tables() t JOIN duckdb_columns() c USING (database_name, schema_name, table_name) "
            "WHERE t.database_name = current_database() AND NOT t.internal AND t.table_name <> 'schema_migrations' "
            "GROUP BY 1, 2 ORDER BY 1"), max_rows=200, max_width=args.max_width)
    return 0
