"""One transaction around a group of statements, with the Arrow tables they read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from .errors import QmdbError


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """Arrow tables (or anything DuckDB scans) visible under the given names for the statements inside."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            try:
                con.unregister(name)
            except duckdb.TransactionException:  # an aborted transaction: its ROLLBACK drops the name
                pass


def commit(con: duckdb.DuckDBPyConnection) -> None:
    """COMMIT the open transaction: the one place where every `transaction` ends well.

    A seam, not a hook: tests replace it (``monkeypatch.setattr(qmdb.transaction, "commit", ...)``)
    to interrupt a run just before a given commit."""
    con.execute("COMMIT")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, **tables: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, or ROLLBACK on any exception (the database is left as it was), with
    `tables` registered as in `registered`.

    >>> import pyarrow as pa, qmdb
    >>> con = qmdb.connect()
    >>> with transaction(con, rows=pa.table({"tag": ["reviewed"]})):
    ...     _ = con.execute("INSERT INTO tags (item_type, item_id, tag) SELECT 'image', 1, tag FROM rows")
    >>> con.sql("SELECT tag FROM tags").fetchall()
    [('reviewed',)]
    """
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        raise QmdbError("qmdb writes in a transaction of its own; commit or roll back the open one first") from None
    try:
        with registered(con, **tables):
            yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    commit(con)
