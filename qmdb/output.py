"""Writing query results for people (a table) and for programs (CSV, JSON, Parquet)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa

FORMATS = ("table", "vertical", "csv", "json", "parquet")
UNLIMITED = 1_000_000  # the width of a table written to a pipe or a file: every column shown


def table_width(max_width: int | None = None) -> int:
    """The width a table is rendered to: `max_width` if given, else the terminal's width when stdout
    is one, else $COLUMNS, else no limit (a pipe or a file gets every column).

    >>> table_width(80)
    80
    """
    if max_width:
        return max_width
    if sys.stdout.isatty():
        return shutil.get_terminal_size((160, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else UNLIMITED


def print_table(relation: duckdb.DuckDBPyRelation, *, max_rows: int = 40, max_width: int | None = None) -> None:
    """DuckDB's own box rendering, with the row count, as wide as `table_width` says."""
    relation.show(max_rows=max_rows, max_width=table_width(max_width))


def print_vertical(relation: duckdb.DuckDBPyRelation, *, max_rows: int = 40) -> None:
    """One block per row, one `column | value` line per column (psql's expanded mode): every column
    of a wide result, whatever the terminal's width.

    >>> import duckdb
    >>> print_vertical(duckdb.sql("SELECT 1 AS one, 'a' AS letter"))
    -[ row 1 ]-
    one    | 1
    letter | a
    """
    rows = relation.limit(max_rows + 1).fetchall()
    names = relation.columns
    pad = max((len(n) for n in names), default=0)
    for number, row in enumerate(rows[:max_rows], start=1):
        print(f"-[ row {number} ]-")
        for name, value in zip(names, row):
            print(f"{name.ljust(pad)} | {'NULL' if value is None else value}")
    if len(rows) > max_rows:
        print(f"(the first {max_rows} rows; --max-rows shows more)")


def _json_rows(table: pa.Table, out: BinaryIO) -> None:
    for row in table.to_pylist():
        out.write(json.dumps(row, default=str).encode() + b"\n")


def write(relation: duckdb.DuckDBPyRelation, fmt: str, output: str | Path | None = None, *,
          max_rows: int = 40, max_width: int | None = None) -> None:
    """Write a result as `fmt` to a file, or to stdout when `output` is None or '-' ('table' and
    'vertical' are for people: stdout only, at most `max_rows` rows)."""
    if fmt == "table":
        print_table(relation, max_rows=max_rows, max_width=max_width)
        return
    if fmt == "vertical":
        print_vertical(relation, max_rows=max_rows)
        return
    to_stdout = output in (None, "-")
    if fmt == "parquet" and to_stdout:
        raise ValueError("parquet needs a file: pass --output FILE")
    table = relation.to_arrow_table()
    if fmt == "parquet":
        import pyarrow.parquet as pq  # the writers load when used: a command that prints a table needs neither

        pq.write_table(table, str(output))
        return
    sink = sys.stdout.buffer if to_stdout else open(output, "wb")
    try:
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, sink)
        elif fmt == "json":
            _json_rows(table, sink)
        else:
            raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
        sink.flush()
    finally:
        if not to_stdout:
            sink.close()
