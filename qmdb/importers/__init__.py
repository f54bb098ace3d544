"""Importers: datasets, predictions and metadata into a project, each import one transaction.

One module per format; each parses its source into Arrow tables with no
database access, and `store` writes them with one upsert per table. Formats
are named by the `qmdb_dataset_formats` and `qmdb_prediction_formats` hooks
(`qmdb.builtins` for qmdb's own, any plugin for more).

>>> sorted(dataset_formats()), sorted(prediction_formats())
(['coco', 'folders', 'table', 'voc', 'yolo'], ['coco', 'probs', 'yolo'])
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from ..errors import QmdbError
from .report import ImportReport

def dataset_formats() -> dict[str, str]:
    """{format: module} of every dataset importer, built-ins first."""
    from .. import plugins

    return plugins.formats("qmdb_dataset_formats")


def prediction_formats() -> dict[str, str]:
    """{format: module} of every prediction importer, built-ins first."""
    from .. import plugins

    return plugins.formats("qmdb_prediction_formats")


def _module(registry: dict[str, str], fmt: str, what: str):
    if fmt not in registry:
        raise QmdbError(f"unknown {what} format '{fmt}'; choose one of {', '.join(registry)}")
    return importlib.import_module(registry[fmt])


def import_dataset(con: duckdb.DuckDBPyConnection, fmt: str, source: str | Path, *, name: str | None = None,
                   root: str | Path | None = None, split: str | None = None) -> ImportReport:
    """Import a dataset (images, classes, labels) in one transaction; re-importing updates in place.

    Args:
        con: a qmdb connection (`qmdb.connect`).
        fmt: "coco", "yolo", "voc", "folders", "table", or a plugin's format (`dataset_formats()`).
        source: the annotation file or folder (see each format's module).
        name: the dataset's name (default: from the source's name).
        root: the folder image paths are relative to (default: per format).
        split: the split of every image, where the source does not say.
    """
    from .store import write_dataset

    batch = _module(dataset_formats(), fmt, "dataset").read(source, name=name, root=root, split=split)
    return write_dataset(con, batch)


def import_predictions(con: duckdb.DuckDBPyConnection, fmt: str, source: str | Path, *, model: str, dataset: str,
                       root: str | Path | None = None) -> ImportReport:
    """Import one model's predictions on a dataset ("coco" results, "yolo" txt with confidence, "probs").

    The import replaces that model's earlier predictions on that dataset.
    """
    from .predictions.store import write_predictions

    batch = _module(prediction_formats(), fmt, "prediction").read(con, source, model=model, dataset=dataset, root=root)
    return write_predictions(con, batch)


def import_metadata(con: duckdb.DuckDBPyConnection, source: str | Path, *, dataset: str,
                    key: str = "path") -> ImportReport:
    """Per-image CSV/Parquet columns become columns of `images`, matched on `key` (path, image_id or source_id)."""
    from .metadata import import_table

    return import_table(con, source, dataset=dataset, key=key)


__all__ = ["ImportReport", "import_dataset", "import_predictions", "import_metadata",
           "dataset_formats", "prediction_formats"]
