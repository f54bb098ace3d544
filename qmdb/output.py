"""Writing query results for people (a table) and for programs (CSV, JSON, Parquet)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("table", "csv", "json", "parquet")


def print_table(relation: duckdb.DuckDBPyRelation, *, max_rows: int = 40, max_width: int = 160) -> None:
    """DuckDB's own box rendering, with the row count."""
    relation.show(max_rows=max_rows, max_width=max_width)


def _json_rows(table: pa.Table, out: BinaryIO) -> None:
    for row in table.to_pylist():
        out.write(json.dumps(row, default=str).encode() + b"\n")


def write(relation: duckdb.DuckDBPyRelation, fmt: str, output: str | Path | None = None) -> None:
    """Write a result as `fmt` to a file, or to stdout when `output` is None or '-'."""
    if fmt == "table":
        print_table(relation)
        return
    to_stdout = output in (None, "-")
    if fmt == "parquet" and to_stdout:
        raise ValueError("parquet needs a file: pass --output FILE")
    table = relation.to_arrow_table()
    if fmt == "parquet":
        pq.write_table(table, str(output))
        return
    sink = sys.stdout.buffer if to_stdout else open(output, "wb")
    try:
        if fmt == "csv":
            pacsv.write_csv(table, sink)
        elif fmt == "json":
            _json_rows(table, sink)
        else:
            raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
        sink.flush()
    finally:
        if not to_stdout:
            sink.close()
