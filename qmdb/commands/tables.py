"""qmdb tables: list a project's tables with their columns and row counts."""

import argparse

from ..database import connect

NAME = "tables"
HELP = "list tables, their row counts and columns"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")


def run(args: argparse.Namespace) -> int:
    con = connect(args.database)
    con.sql(
        "SELECT t.table_name AS \"table\", t.estimated_size AS rows, "
        "string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.column_index) AS columns "
        "FROM duckdb_tables() t JOIN duckdb_columns() c USING (database_name, schema_name, table_name) "
        "WHERE t.database_name = current_database() AND NOT t.internal AND t.table_name <> 'schema_migrations' "
        "GROUP BY 1, 2 ORDER BY 1"
    ).show(max_rows=200, max_width=200)
    return 0
