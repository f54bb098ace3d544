"""The serving connection: DuckDB itself refuses what the server must not do.

Opened `read_only=True` (unless writes are enabled), with no file access from
SQL, no extension install or load, no Python replacement scans (a query cannot
read the server's own Python variables), no spilling to a temp folder, a
memory limit, and the configuration locked last so no query can undo any of it.

qmdb's Python functions are a separate question: a Python UDF that opened a
path given in SQL would bypass `enable_external_access`. The server therefore
registers only the function providers in `SERVED_PROVIDERS`, none of which
takes a path: the similarity search of `qmdb.embeddings` (it reads the vector
index beside the database) and the metric functions of `qmdb.udfs.functions`,
which take an `image_id` / `label_id` and find the file themselves by the path
rule, and the mask metrics of `qmdb.udfs.mask_registry` and `mask_intersection` of `qmdb.udfs.semantic` (pure
functions of stored masks), and
`coreset()` of `qmdb.selection` (it reads the `embeddings` table only, n at most
the number of embedded items) (registered with `register_served`: a file that leaves its dataset root
gives NULL, unread). So `SELECT image_id, brightness(image_id) FROM images`
works over HTTP, and no client can name a file to read.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from qmdb import functions

# Provider modules (see qmdb.functions.PROVIDERS) whose SQL functions the server registers.
SERVED_PROVIDERS: tuple[str, ...] = ("qmdb.embeddings", "qmdb.udfs.functions", "qmdb.udfs.mask_registry",
                                     "qmdb.udfs.semantic", "qmdb.selection.functions")

SAFE_CONFIG: dict[str, object] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
    "temp_directory": "",
}


def served_providers() -> list[str]:
    """The registered providers the server exposes: those under a module of SERVED_PROVIDERS."""
    return [m for m in functions.PROVIDERS if any(m == s or m.startswith(s + ".") for s in SERVED_PROVIDERS)]


def open_serving(path: str | Path, *, writable: bool = False, memory_limit: str = "2GB",
                 threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open a project file for serving: read-only unless `writable`, locked down, configuration locked.

    A writable connection is migrated and its views installed first (the write
    endpoints need the tables); a read-only one serves the file as it is.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such database file")
    if writable:
        import qmdb

        qmdb.connect(path).close()  # migrate and install views before locking down
    config = dict(SAFE_CONFIG, memory_limit=memory_limit)
    if threads:
        config["threads"] = threads
    con = duckdb.connect(str(path), read_only=not writable, config=config)
    for name in served_providers():
        module = importlib.import_module(name)
        getattr(module, "register_served", module.register)(con)  # a provider's served variant, if it has one
    con.execute("SET lock_configuration = true")
    return con
