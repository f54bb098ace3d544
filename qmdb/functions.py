"""SQL functions qmdb adds to a DuckDB connection.

Each provider is a module with a `register(con)` function. The built-in
providers are listed in `PROVIDERS` and registered by `qmdb.builtins` through
the `qmdb_sql_functions` hook, the same hook a plugin implements to add its
own. Providers are imported on first use, so opening a project stays fast and
does not load torch.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable

import duckdb

PROVIDERS: tuple[str, ...] = (
    "qmdb.udfs.functions",
    "qmdb.udfs.mask_registry",
    "qmdb.udfs.semantic",
    "qmdb.selection.functions",
    "qmdb.embeddings.functions",
)


def register_providers(con: duckdb.DuckDBPyConnection, modules: tuple[str, ...] | list[str] = PROVIDERS) -> None:
    """Call each provider module's `register(con)`."""
    for module in modules:
        importlib.import_module(module).register(con)


def defined(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]
    ).fetchall()[0][0])


def define(con: duckdb.DuckDBPyConnection, name: str, function: Callable, parameters: list, return_type, **options) -> None:
    """`con.create_function`, replacing an earlier definition of the same name on this connection.

    Two connections to one file in one process share DuckDB's catalog: the
    function the first one registered serves the second, so it is kept, and
    so is the Python callable behind it (`_SERVING`): the catalog outlives the
    connection that registered it, and calling a freed callable would crash.
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
        return
    file = _file_of(con)
    if file:
        _SERVING[(file, name)] = function


_SERVING: dict[tuple[str, str], Callable] = {}
_FILES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _file_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """`database_file`, asked once per connection (a registration defines dozens of functions)."""
    if con not in _FILES:
        from .database import database_file

        _FILES[con] = database_file(con)
    return _FILES[con]
