"""Opening a project: a DuckDB file with qmdb's schema, functions and views."""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import plugins, schema


def connect(path: str | Path = ":memory:", *, read_only: bool = False, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open (or create) a project database and return a plain DuckDB connection.

    The schema is migrated (tables, then the built-in and saved views), and
    qmdb's SQL functions are registered on the connection.

    >>> import qmdb
    >>> con = qmdb.connect()
    >>> con.sql("SELECT count(*) FROM images").fetchall()
    [(0,)]
    """
    con = duckdb.connect(str(path), read_only=read_only, config=config or {})
    if read_only:
        register(con)
    else:
        schema.migrate(con)  # registers the functions first: views call them
    return con


def register(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add qmdb's SQL functions to a connection the caller already has; returns it."""
    plugins.call("qmdb_sql_functions", con=con)
    return con


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind a connection's main database, or None for an in-memory one."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def sidecar_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder beside the database file where index files and caches live (`demo.duckdb` → `demo.qmdb/`)."""
    db = database_path(con)
    if db is None:
        import tempfile

        return Path(tempfile.gettempdir()) / "qmdb-memory"
    return db.with_suffix(".qmdb")
