"""Opening a project: a DuckDB file with qmdb's schema, functions and views.

`connect` opens (and by default creates) a project; `project` is the context manager every CLI
command opens its file through, and `close` the one way it is closed: a CHECKPOINT first, so no
`.wal` file is left beside the `.duckdb` and copying the file copies every write.

New files are written in the storage format of `STORAGE_VERSION` (DuckDB's
`storage_compatibility_version`), so DuckDB 1.4 and 1.5 clients (the `duckdb` CLI of
`pip install duckdb-cli`, DBeaver, R, another language) opens them; `$QMDB_STORAGE_VERSION`,
or `storage_version=` here, chooses another (`'latest'` for DuckDB 2.0's own).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from . import plugins, schema
from .errors import QmdbError, ViewError

# Every storage version from v1.0.0 holds what qmdb stores (lists, maps, JSON, macros, views), but only from
# v1.4.0 on does DuckDB refuse a WAL that belongs to another file (older ones replay it onto the wrong data).
# DuckDB 1.4 (LTS) and 1.5 clients read it; `pip install duckdb-cli` gives 1.5.x.
STORAGE_VERSION = "v1.4.0"


class NoProject(QmdbError):
    """A command that only reads or changes a project was given a path with no file."""

    def __init__(self, path: object):
        super().__init__(f"{path}: no such project; create it with 'qmdb init {path}' "
                         "(or 'qmdb import', 'qmdb demo'), or check the path")


def storage_version(choice: str | None = None) -> str:
    """The storage version new project files are written in: `choice`, else $QMDB_STORAGE_VERSION,
    else `STORAGE_VERSION`.

    >>> storage_version("v1.4.0")
    'v1.4.0'
    """
    return choice or os.environ.get("QMDB_STORAGE_VERSION") or STORAGE_VERSION


def _is_file(path: str) -> bool:
    return path not in ("", ":memory:") and not path.startswith((":memory:", "md:")) and "://" not in path


def _open(path: str, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=read_only, config=config)
    except duckdb.Error as error:
        if "replaying WAL" in str(error):
            raise QmdbError(
                f"{path}.wal: this write-ahead log belongs to another copy of {path} (the file was replaced "
                f"while it held unsaved writes); move it away ('mv {path}.wal {path}.wal.stale') to open "
                "the file as it is, or put back the file it belongs to") from None
        raise


def connect(path: str | Path = ":memory:", *, read_only: bool = False, config: dict | None = None,
            create: bool = True, storage_version: str | None = None,
            repair: bool = False, functions: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (or create) a project database and return a plain DuckDB connection.

    The schema is migrated (tables, then the built-in and saved views) unless
    the file is `schema.up_to_date` (then opening it runs no DDL), and qmdb's
    SQL functions are registered on the connection (`functions=False`: not
    on an up-to-date file, for work that calls none of them). A path with no file
    is created as a new project (in `storage_version`'s format, see the module
    docstring) unless `create=False` or `read_only=True`, which raise
    `NoProject` instead; `repair=True` first re-creates the tables, sequences
    and macros of applied migrations that were dropped (`qmdb init`).

    >>> import qmdb
    >>> con = qmdb.connect()
    >>> con.sql("SELECT count(*) FROM images").fetchall()
    [(0,)]
    """
    path = str(path)
    config = dict(config or {})
    if _is_file(path) and not Path(path).exists():
        if read_only or not create:
            raise NoProject(path)
        version = _storage_version(storage_version)
        if version != "latest":  # made empty and closed first: a later connection to the file, in this process
            # too, then opens it with the caller's configuration (DuckDB refuses two configurations at once)
            duckdb.connect(path, config={**config, "storage_compatibility_version": version}).close()
    con = _open(path, read_only, config)
    try:
        if read_only or (not repair and schema.up_to_date(con)):
            if functions:
                register(con)
        else:
            if repair:
                schema.repair(con)
            try:
                schema.migrate(con)  # registers the functions first: views call them
            except ViewError as error:
                if repair or not _is_file(path):
                    raise
                raise ViewError(f"{error}; 'qmdb init {path}' re-creates the tables a project lacks") from None
    except BaseException:
        con.close()
        raise
    return con


_storage_version = storage_version


def close(con: duckdb.DuckDBPyConnection) -> None:
    """CHECKPOINT (every write moves from the `.wal` into the file), then close."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error:  # an aborted transaction or a closed connection: closing still releases the file
        pass
    finally:
        con.close()


@contextmanager
def project(path: str | Path, **options: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect(path, create=False, **options)` for the length of a `with`, closed by `close`; the CLI's
    commands open their file through it (only `init`, `import` and `demo` pass `create=True`)."""
    options.setdefault("create", False)
    con = connect(path, **options)
    try:
        yield con
    finally:
        close(con)


def register(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add qmdb's SQL functions to a connection the caller already has; returns it."""
    plugins.call("qmdb_sql_functions", con=con)
    return con


def database_file(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind a connection's main database as DuckDB names it, or None for an in-memory one."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`database_file` as a Path."""
    file = database_file(con)
    return Path(file) if file else None


def sidecar_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder beside the database file where index files and caches live (`demo.duckdb` → `demo.qmdb/`)."""
    db = database_path(con)
    if db is None:
        import tempfile

        return Path(tempfile.gettempdir()) / "qmdb-memory"
    return db.with_suffix(".qmdb")
