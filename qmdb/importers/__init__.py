"""Importers: datasets, predictions and metadata into a project, each import one transaction.

One module per format; each parses its source into Arrow tables with no
database access, and `store` writes them with one upsert per table. Formats
are named by the `qmdb_dataset_formats` and `qmdb_prediction_formats` hooks
(`qmdb.builtins` for qmdb's own, any plugin for more).

>>> sorted(dataset_formats()), sorted(prediction_formats())
(['coco', 'folders', 'semantic', 'table', 'voc', 'yolo'], ['coco', 'probs', 'semantic', 'yolo'])
"""

from __future__ import annotations

import importlib
import inspect
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
                   root: str | Path | None = None, split: str | None = None, strict: bool = False) -> ImportReport:
    """Import a dataset (images, classes, labels) in one transaction; re-importing updates in place.

    Args:
        con: a qmdb connection (`qmdb.connect`).
        fmt: "coco", "yolo", "voc", "folders", "table", or a plugin's format (`dataset_formats()`).
        source: the annotation file or folder (see each format's module).
        name: the dataset's name (default: from the source's name).
        root: the folder image paths are relative to (default: per format).
        split: the split of every image, where the source does not say.
        strict: refuse a label box reaching more than 1 pixel outside its image (an `InputError` naming
            the annotation). By default such boxes are stored as written and `errors_out_of_bounds`
            flags them.
    """
    from .fields import strict_boxes
    from .memory import bounded
    from .store import write_dataset

    module = _module(dataset_formats(), fmt, "dataset")
    streams = {"stream": True} if "stream" in inspect.signature(module.read).parameters else {}

    def run() -> ImportReport:
        with strict_boxes(strict):  # a streamed reader checks its labels while the writer consumes them
            batch = module.read(source, name=name, root=root, split=split, **streams)
            return write_dataset(con, batch)

    try:
        with bounded(con):
            return run()
    except duckdb.OutOfMemoryException:  # rolled back: the bound is too small for this dataset's indexes
        return run()


def import_predictions(con: duckdb.DuckDBPyConnection, fmt: str, source: str | Path, *, model: str, dataset: str,
                       root: str | Path | None = None, columns=None) -> ImportReport:
    """Import one model's predictions on a dataset ("coco" results, "yolo" txt with confidence, "probs").

    The import replaces that model's earlier predictions on that dataset. A model belongs to one
    dataset: importing a model that has predictions on another dataset is refused.

    `columns` (probs only) maps probability columns to classes: a prefix (`"p"` for `p0 … p9`, the
    rest of each name a class or a class id), a list of classes in column order (or one string,
    comma-separated), a {column: class} dict, or the path of a mapping file (.json object or list,
    .csv `column,class`, or a text file of one class per line).
    """
    from .predictions.store import write_predictions

    module = _module(prediction_formats(), fmt, "prediction")
    options = {}
    if columns is not None:
        if "columns" not in inspect.signature(module.read).parameters:
            raise QmdbError(f"columns applies to probability tables (probs), not to {fmt} predictions")
        options["columns"] = columns
    batch = module.read(con, source, model=model, dataset=dataset, root=root, **options)
    return write_predictions(con, batch)


def import_metadata(con: duckdb.DuckDBPyConnection, source: str | Path, *, dataset: str,
                    key: str = "path") -> ImportReport:
    """Per-image CSV/Parquet columns become columns of `images`, matched on `key` (path, image_id or source_id)."""
    from .metadata import import_table

    return import_table(con, source, dataset=dataset, key=key)


__all__ = ["ImportReport", "import_dataset", "import_predictions", "import_metadata",
           "dataset_formats", "prediction_formats"]
