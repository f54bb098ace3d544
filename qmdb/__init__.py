"""qmdb: an embedded analytics database for computer-vision data quality, on DuckDB.

>>> import qmdb
>>> con = qmdb.connect()          # a DuckDB connection with qmdb's schema, functions and views
>>> con.sql("SELECT count(*) FROM labels").fetchall()
[(0,)]
"""

from importlib import import_module

# Public name → the module that defines it. Imported on first use, so that a worker process that only
# computes metrics does not pay for the server, the evaluation or the embeddings.
_EXPORTS = {
    "connect": "database", "register": "database",
    "embed": "embeddings",
    "InputError": "errors", "QmdbError": "errors", "ViewError": "errors",
    "evaluate": "evaluation",
    "export_coco": "export", "export_yolo": "export",
    "export_gallery": "gallery",
    "import_dataset": "importers", "import_metadata": "importers", "import_predictions": "importers",
    "find_label_errors": "label_errors",
    "apply_changes": "history", "fix": "history.fix", "undo": "history",
    "coreset": "selection",
    "create_app": "server_entry",
    "diff_snapshots": "snapshots", "snapshot": "snapshots",
    "tag": "tags",
    "compute_metrics": "udfs", "image_metric": "udfs", "label_metric": "udfs",
}
_RENAMED = {"run_view": ("views", "run"), "save_view": ("views", "save")}

__all__ = [*_EXPORTS, *_RENAMED]  # noqa: PLE0605


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name], name
    elif name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        raise AttributeError(f"module 'qmdb' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


__version__ = "0.1.0"
