"""SQL functions qmdb adds to a DuckDB connection.

Each provider is a module with a `register(con)` function; the built-in ones are
listed in `PROVIDERS` and are registered exactly as a third party's would be
(`qmdb.functions.add_provider`). Providers are imported on first use, so opening
a project stays fast and does not load torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import duckdb

PROVIDERS: list[str] = [
    "qmdb.udfs.functions",
    "qmdb.selection.functions",
    "qmdb.embeddings.functions",
]


def add_provider(module: str) -> None:
    """Register a module whose `register(con)` adds SQL functions to every qmdb connection."""
    if module not in PROVIDERS:
        PROVIDERS.append(module)


def register_all(con: duckdb.DuckDBPyConnection) -> None:
    for module in PROVIDERS:
        importlib.import_module(module).register(con)


def defined(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]
    ).fetchall()[0][0])


def define(con: duckdb.DuckDBPyConnection, name: str, function: Callable, parameters: list, return_type, **options) -> None:
    """`con.create_function`, replacing an earlier definition of the same name on this connection.

    Two connections to one file in one process share DuckDB's catalog: the
    function the first one registered serves the second, so it is kept.
    """
    try:
        con.remove_function(name)
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass
    try:
        con.create_function(name, function, parameters, return_type, **options)
    except duckdb.CatalogException as error:
        if "already exists" not in str(error):
            raise
