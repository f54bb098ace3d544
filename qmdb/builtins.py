"""qmdb's own importers, metrics, embedders, views, plots, exports, commands, tables and SQL functions,
registered through the hooks of `qmdb.hookspecs` exactly as a plugin registers its own."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from .hookspecs import hookimpl


@hookimpl
def qmdb_schema() -> list[str]:
    return ["qmdb.schema", "qmdb.udfs.tables", "qmdb.snapshots", "qmdb.embeddings.schema", "qmdb.evaluation.schema",
            "qmdb.history.schema"]


@hookimpl
def qmdb_migrate(con: duckdb.DuckDBPyConnection) -> None:
    from .udfs.registry import metrics
    from .udfs.tables import TABLES
    from .schema import add_columns

    for kind, (table, _) in TABLES.items():
        add_columns(con, table, {m.name: m.type for m in metrics(kind)})


@hookimpl
def qmdb_sql_functions(con: duckdb.DuckDBPyConnection) -> None:
    from .functions import register_providers

    register_providers(con)


@hookimpl
def qmdb_dataset_formats() -> dict[str, str]:
    return {name: f"qmdb.importers.{name}" for name in ("coco", "yolo", "voc", "folders", "table", "semantic")}


@hookimpl
def qmdb_prediction_formats() -> dict[str, str]:
    return {name: f"qmdb.importers.predictions.{name}" for name in ("coco", "yolo", "probs", "semantic")}


@hookimpl
def qmdb_metric_modules() -> list[str]:
    from .udfs.registry import builtin_modules

    return builtin_modules()


def _builtin_embedder(weights: str | None = None, *, device: str | None = None, name: str | None = None) -> Any:
    from .embeddings.builtin import BuiltinEmbedder
    from .errors import InputError

    if weights is not None:
        raise InputError(weights, "--weights", f"the built-in model {BuiltinEmbedder.name} takes no weights")
    return BuiltinEmbedder()


@hookimpl
def qmdb_embedders() -> dict[str, Callable[..., Any]]:
    return {"builtin": _builtin_embedder, "builtin-hog-v1": _builtin_embedder}


@hookimpl
def qmdb_views() -> list[Path]:
    return [Path(str(resources.files("qmdb.sql")))]


@hookimpl
def qmdb_plots() -> dict[str, Any]:
    from .plots.builtin import PLOTS

    return PLOTS


def _export(format: str) -> Callable[..., Any]:
    def export(con: duckdb.DuckDBPyConnection, out: str, **options: Any) -> Any:
        from . import export as exports

        return getattr(exports, f"export_{format}")(con, out, **options)

    export.__name__ = f"export_{format}"
    return export


@hookimpl
def qmdb_export_formats() -> dict[str, Callable[..., Any]]:
    from .annotate import export_cvat, export_labelstudio

    return {"coco": _export("coco"), "yolo": _export("yolo"), "cvat": export_cvat, "labelstudio": export_labelstudio}


@hookimpl
def qmdb_commands() -> list[str]:
    from .commands import COMMANDS, module_of

    return [module_of(name) for name in COMMANDS]
