"""One more annotator's labels over the images of a dataset already in the project.

`import_dataset` makes a file the dataset's labels: re-importing replaces them.
To keep several annotators' labels of the same images side by side (the input of
the `consensus_*` and `annotator_*` views), `import_annotator` reads the file
with the same format module, gives every label `annotator = NAME` and the source
id `NAME:<id in the file>`, and upserts them next to the others: a later import
of the same annotator replaces only that annotator's labels of those images.
Every image the file names must already be in the dataset.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..history.record import Batch, recording
from ..schema import add_columns
from ..transaction import transaction
from .extras import sql_types
from .files import relative_paths
from .report import ImportReport
from .store import LABEL_TYPES, conform, upsert_labels_sql

_KNOWN = {"path", *LABEL_TYPES}


def _annotator_labels(batch, annotator: str, dataset_root: Path) -> pa.Table:
    labels = conform(batch.labels, LABEL_TYPES, batch.label_extras)
    n = labels.num_rows
    paths = relative_paths(labels["path"].to_pylist(), batch.root, dataset_root)
    labels = labels.set_column(labels.column_names.index("path"), "path", pa.array(paths, pa.string()))
    labels = labels.set_column(labels.column_names.index("annotator"), "annotator", pa.array([annotator] * n, pa.string()))
    source_id = pc.binary_join_element_wise(pa.array([annotator] * n, pa.string()), labels["source_id"], ":")
    return labels.set_column(labels.column_names.index("source_id"), "source_id", source_id)


def import_annotator(con: duckdb.DuckDBPyConnection, fmt: str, source: str | Path, *, annotator: str,
                     name: str | None = None, root: str | Path | None = None) -> ImportReport:
    """Add (or replace) one annotator's labels of images already in dataset `name`, in one transaction.

    Args:
        fmt: a dataset format ("coco", "yolo", "voc", "folders", "table", a plugin's).
        source: the annotator's file or folder, read as `import_dataset` reads it.
        annotator: the name stored in `labels.annotator`; source ids become ``NAME:<id>``.
        name: the dataset (default: from the source's name, as `import_dataset`).
        root: the folder the file's image paths are relative to.
    """
    from . import _module, dataset_formats

    if not annotator or ":" in annotator:
        raise InputError(source, "annotator", f"a non-empty name without ':' is needed, got {annotator!r}")
    batch = _module(dataset_formats(), fmt, "dataset").read(source, name=name, root=root, split=None)
    found = con.execute("SELECT root, task FROM datasets WHERE name = ?", [batch.name]).fetchall()
    if not found:
        raise InputError(source, "name", f"dataset '{batch.name}' is not in the project: import it first, "
                                         "then add annotators to it")
    dataset_root, task = Path(found[0][0]), found[0][1]
    if task and task != batch.task:
        raise InputError(source, None, f"dataset '{batch.name}' holds {task} labels; this file has {batch.task} labels")
    labels = _annotator_labels(batch, annotator, dataset_root)
    report = ImportReport(f"{fmt} ({annotator})", batch.name, labels=labels.num_rows)
    with transaction(con, _qmdb_labels=labels):
        missing = con.execute(
            "SELECT min(l.path) FROM _qmdb_labels l ANTI JOIN images i ON i.dataset = ? AND i.path = l.path",
            [batch.name]).fetchall()[0][0]
        if missing is not None:
            raise InputError(source, "path", f"image '{missing}' is not in dataset '{batch.name}'")
        extras = {c: labels[c] for c in labels.column_names if c not in _KNOWN}
        report.columns_added += [f"labels.{c}" for c in add_columns(con, "labels", sql_types(con, extras))]
        con.execute(
            "INSERT INTO classes (dataset, class_id, class) SELECT $name, "
            "(SELECT coalesce(max(class_id), -1) FROM classes WHERE dataset = $name) + row_number() OVER (ORDER BY class), "
            "class FROM (SELECT DISTINCT class FROM _qmdb_labels) n "
            "WHERE NOT EXISTS (SELECT 1 FROM classes c WHERE c.dataset = $name AND c.class = n.class)", {"name": batch.name})
        history = Batch(annotator, f"import:{fmt}:{source}", f"annotator {annotator} of dataset '{batch.name}'")
        scope = ("SELECT o.label_id FROM labels o JOIN images i ON i.image_id = o.image_id AND i.dataset = $name "
                 "WHERE starts_with(o.source_id, $prefix) AND i.path IN (SELECT path FROM _qmdb_labels)")
        with recording(con, history, scope, {"name": batch.name, "prefix": annotator + ":"}, keep_empty=False):
            con.execute(upsert_labels_sql([c for c in labels.column_names if c != "path"]), {"name": batch.name})
            stale = ("FROM labels o JOIN images i ON i.image_id = o.image_id AND i.dataset = $name "
                     "WHERE starts_with(o.source_id, $prefix) AND i.path IN (SELECT path FROM _qmdb_labels) "
                     "AND NOT EXISTS (SELECT 1 FROM _qmdb_labels n WHERE n.path = i.path AND n.source_id = o.source_id)")
            params = {"name": batch.name, "prefix": annotator + ":"}
            report.removed = con.execute(f"SELECT count(*) {stale}", params).fetchall()[0][0]
            if report.removed:
                con.execute(f"DELETE FROM labels WHERE label_id IN (SELECT o.label_id {stale})", params)
    return report
