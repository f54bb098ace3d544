"""Running one checked query per request: its own cursor, a deadline, a row cap.

JSON comes back as pages (`limit`/`offset`, with `next_offset`), at most
`max_rows` deep; Arrow, CSV and Parquet stream every row of the result from DuckDB's
record-batch reader, so the server holds one batch at a time whatever the size of
the result. A stream that cannot finish (the time limit, an error after the first
batch) ends the connection without the last chunk, so no client mistakes the part
it got for the whole result.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from .errors import ApiError, from_duckdb
from .formats import FORMATS, encode
from .settings import Settings
from .watchdog import WATCHDOG

BATCH_ROWS = 65_536
NESTED = ("[]", "STRUCT", "MAP", "UNION", "[", "BLOB", "BIT", "VARIANT")


@dataclass
class Query:
    """SQL already known safe (checked, or built by the server), and its bound values."""

    sql: str
    params: list | dict | None = None


class StreamBroken(Exception):
    """A streamed result could not be finished; raised inside the body, so the transfer is cut unfinished."""


class Runner:
    """Runs queries on cursors of one serving connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings):
        self.con = con
        self.settings = settings
        self._lock = threading.Lock()
        self._cursors: weakref.WeakSet = weakref.WeakSet()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            cursor = self.con.cursor()
            self._cursors.add(cursor)
            return cursor

    def interrupt_all(self) -> None:
        """Interrupt whatever runs on this runner's cursors (the server is shutting down)."""
        with self._lock:
            cursors = list(self._cursors)
        for cursor in cursors:
            try:
                cursor.interrupt()
            except duckdb.Error:  # closed already
                pass

    def _relation(self, cursor: duckdb.DuckDBPyConnection, query: Query) -> duckdb.DuckDBPyRelation:
        try:
            relation = cursor.sql(query.sql, params=_bindable(query.params))
        except (TypeError, ValueError, OverflowError) as error:
            raise ApiError(400, f"cannot bind the parameters: {error}") from None
        if relation is None:  # never for a checked query; refuse rather than guess
            raise ApiError(403, "refused: the statement is not a query")
        return relation

    def json_page(self, query: Query, limit: int | None, offset: int) -> dict:
        """One page of rows: columns with their types, rows as lists, and where the next page starts.

        One round trip: the checked query is wrapped as a subquery with LIMIT/OFFSET
        (integers the server formats), and the wrapped text is checked again to be
        one SELECT by DuckDB's parser.
        """
        limit = self.page_limit(limit, offset)
        sql = f"SELECT * FROM (\n{query.sql}\n) AS qmdb_page LIMIT {int(limit) + 1} OFFSET {int(offset)}"
        columns, rows = self.fetch(Query(sql, query.params))
        return self.page(columns, rows, offset, limit)

    def page_limit(self, limit: int | None, offset: int) -> int:
        """The rows a page starting at `offset` may hold (the request's, the page cap, the row cap)."""
        if offset >= self.settings.max_rows:
            raise ApiError(400, f"offset {offset} is past the server's row cap of {self.settings.max_rows}")
        return min(limit or self.settings.page_size, self.settings.max_page_size, self.settings.max_rows - offset)

    def page(self, columns: list[dict], rows: list[tuple], offset: int, limit: int) -> dict:
        """The JSON page of `rows` (fetched `limit` + 1, so one more says the result goes on)."""
        more = len(rows) > limit
        capped = more and offset + limit >= self.settings.max_rows
        return {
            "columns": [{"name": c["name"], "type": c["type"]} for c in columns],
            "rows": rows[:limit],
            "offset": offset,
            "limit": limit,
            "next_offset": offset + limit if more and not capped else None,
            "truncated": capped,
        }

    def fetch(self, query: Query) -> tuple[list[dict], list[tuple]]:
        """Columns (name, type) and rows of a query the server wrapped around a checked one, after
        checking the wrapped text is one SELECT by DuckDB's parser; under the time limit."""
        cursor = self.cursor()
        ticket = WATCHDOG.watch(cursor, self.settings.timeout)
        try:
            statements = cursor.extract_statements(query.sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                raise ApiError(403, "refused: the statement is not a single query")
            cursor.execute(statements[0], _bindable(query.params))
            columns = [{"name": d[0], "type": str(d[1]), "duck_type": d[1]} for d in cursor.description]
            return columns, cursor.fetchall()
        except duckdb.Error as error:
            raise from_duckdb(error, timed_out=ticket.fired, timeout=self.settings.timeout) from None
        except (TypeError, ValueError, OverflowError) as error:
            raise ApiError(400, f"cannot bind the parameters: {error}") from None
        finally:
            ticket.cancel()
            cursor.close()

    def stream(self, query: Query, fmt: str) -> tuple[Iterator[bytes], dict]:
        """Start the query and return (chunks of the encoded result, response headers).

        The query runs before the response starts, so an error in it (bad column,
        a timeout before the first batch) is still a JSON error with its status.
        """
        form = FORMATS[fmt]
        cursor = self.cursor()
        ticket = WATCHDOG.watch(cursor, self.settings.timeout)
        try:
            relation = self._relation(cursor, query)
            if form.text_only:
                relation = _as_text(relation)
            reader = relation.to_arrow_reader(BATCH_ROWS)
            first = reader.read_next_batch()
        except StopIteration:
            first = None
        except (duckdb.Error, OSError, pa.ArrowException) as error:
            ticket.cancel()
            cursor.close()
            raise from_duckdb(error, timed_out=ticket.fired, timeout=self.settings.timeout) from None

        def batches() -> Iterator[pa.RecordBatch]:
            if first is not None:
                yield first
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (duckdb.Error, OSError, pa.ArrowException, MemoryError) as error:
                    reason = from_duckdb(error, timed_out=ticket.fired, timeout=self.settings.timeout)
                    raise StreamBroken(f"the {fmt} stream was cut: {reason.message}") from None
                yield batch

        def chunks() -> Iterator[bytes]:
            try:
                yield from encode(form, reader.schema, batches())
            finally:
                ticket.cancel()
                cursor.close()

        return chunks(), {"Content-Disposition": f'inline; filename="result.{form.extension}"'}


def _as_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Nested and binary columns cast to VARCHAR, for formats that only hold flat values (CSV)."""
    if not any(any(mark in str(t) for mark in NESTED) for t in relation.types):
        return relation
    exprs = [
        f'CAST("{n}" AS VARCHAR) AS "{n}"' if any(mark in str(t) for mark in NESTED) else f'"{n}"'
        for n, t in zip((c.replace('"', '""') for c in relation.columns), relation.types)
    ]
    return relation.project(", ".join(exprs))


def _bindable(params: list | dict | None) -> list | dict | None:
    return params if params else None


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _default(value):
    """JSON for what json cannot write: DECIMAL as a number, times as ISO 8601, BLOB as base64."""
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return str(value)


def dumps(page: dict) -> bytes:
    """JSON bytes; NaN and infinities (not JSON) become null."""
    try:
        return json.dumps(page, default=_default, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return json.dumps(_finite(page), default=_default, separators=(",", ":"), allow_nan=False).encode()
