"""Rewriting an existing project in another DuckDB storage format (`qmdb init DB --convert`).

A file written by DuckDB 2.0's own format (`v2.0.0`) cannot be opened by a DuckDB 1.x client.
`convert` copies every table, sequence, macro and view into a new file of the chosen format
(DuckDB's `COPY FROM DATABASE`), checks that every table has the same rows, and only then puts
it in place of the original, which is kept beside it as `DB.before-convert` until the user
removes it: nothing is lost if anything goes wrong.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

from .errors import QmdbError


def storage_of(con: duckdb.DuckDBPyConnection) -> str:
    """The storage version of the connection's database (e.g. `v1.4.0+`, `v2.0.0+`)."""
    return con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0] or "unknown"


def file_storage_version(path: str | Path) -> str:
    """The storage version a project file is written in."""
    with duckdb.connect(str(path), read_only=True) as con:
        return storage_of(con)


def _row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [database]).fetchall()]
    return {t: con.execute(f'SELECT count(*) FROM "{database}"."{t}"').fetchone()[0] for t in tables}


def convert(path: str | Path, version: str) -> Path:
    """Rewrite the project at `path` in storage `version`; returns where the original was kept."""
    from .database import close, connect

    path = Path(path)
    if not path.is_file():
        raise QmdbError(f"{path}: no such project to convert")
    work = path.with_name(f".{path.name}.convert-{uuid.uuid4().hex[:8]}")
    kept = path.with_name(path.name + ".before-convert")
    if kept.exists():
        raise QmdbError(f"{kept} exists (from an earlier conversion): remove it or move it away first")
    con = connect(path, create=False)
    try:
        source = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ATTACH '{work}' AS qmdb_converted (STORAGE_VERSION '{version}')")
        try:
            con.execute(f'COPY FROM DATABASE "{source}" TO qmdb_converted')
            if _row_counts(con, source) != _row_counts(con, "qmdb_converted"):
                raise QmdbError(f"{path}: the converted copy does not have the same rows; the original is unchanged")
        finally:
            con.execute("DETACH qmdb_converted")
    except duckdb.Error as error:
        work.unlink(missing_ok=True)
        raise QmdbError(f"{path}: cannot convert to storage {version}: {str(error).splitlines()[0]}") from None
    except BaseException:
        work.unlink(missing_ok=True)
        raise
    finally:
        close(con)
    os.replace(path, kept)
    os.replace(work, path)
    close(connect(path))  # migrate: re-create what lives per connection
    return kept
