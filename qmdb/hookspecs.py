"""The hook specification: every way qmdb can be extended, for built-ins and plugins alike.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named
after the hooks below, found through the ``qmdb`` entry-point group::

    # pyproject.toml of a plugin package
    [project.entry-points.qmdb]
    my_plugin = "my_plugin"

qmdb's own importers, metrics, embedders, views, plots, export formats,
commands, schema components and SQL functions are registered by
`qmdb.builtins` through these same hooks. Hooks that name what they add
return module names (or lazily loaded factories), so opening a project does
not import what it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pluggy

hookspec = pluggy.HookspecMarker("qmdb")
hookimpl = pluggy.HookimplMarker("qmdb")


@hookspec
def qmdb_schema() -> list[str]:
    """Modules that register migrations with `qmdb.schema.migrations` (imported before a project is migrated)."""


@hookspec
def qmdb_migrate(con: duckdb.DuckDBPyConnection) -> None:
    """After the migrations, before the views install: add what registered parts need (each registered
    metric's column), so a view can read them in a new project."""


@hookspec
def qmdb_sql_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Add SQL functions (Python UDFs, macros) to a connection opened or registered by qmdb."""


@hookspec
def qmdb_dataset_formats() -> dict[str, str]:
    """{format name: module}; the module's ``read(source, *, name, root, split)`` returns a `DatasetBatch`."""


@hookspec
def qmdb_prediction_formats() -> dict[str, str]:
    """{format name: module}; the module's ``read(con, source, *, model, dataset, root)`` returns a
    `PredictionBatch`."""


@hookspec
def qmdb_metric_modules() -> list[str]:
    """Modules whose ``@image_metric`` / ``@label_metric`` functions register metrics when imported
    (metric worker processes import them too)."""


@hookspec
def qmdb_embedders() -> dict[str, Callable[..., Any]]:
    """{model name: factory(weights=None, *, device=None, name=None) -> Embedder}."""


@hookspec
def qmdb_views() -> list[Path]:
    """Folders of view files (``<name>.sql`` with a header), installed into every project as built-ins."""


@hookspec
def qmdb_plots() -> dict[str, Any]:
    """{plot kind: `qmdb.plots.Plot`} for `qmdb plot` and the gallery."""


@hookspec
def qmdb_export_formats() -> dict[str, Callable[..., Any]]:
    """{format name: export(con, out, *, query, view, params) -> ExportReport} for `qmdb export`."""


@hookspec
def qmdb_commands() -> list[str]:
    """CLI command modules, each with ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args) -> int``."""
