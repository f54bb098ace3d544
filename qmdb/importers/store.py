"""Writing an import: one transaction, one set-based upsert per table.

A format module parses its source into a `DatasetBatch` (Arrow tables, no
database access); `write_dataset` then upserts it inside a transaction, so a
failure anywhere leaves the database exactly as it was. Ids stay stable across
re-imports: images upsert on (dataset, path), labels on (image_id, source_id),
and labels of the re-imported images that the source no longer has are removed. What an import
changes in `labels` is recorded as one batch of label versions (`qmdb.history`): the first import
inserts version 1 of each label, a re-import records what it inserted, updated and deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..history.record import Batch, Recorder, recording
from ..schema import add_columns
from ..transaction import registered, transaction
from .extras import sql_types
from .files import joined, relative_paths
from .masks import MASK_TYPE
from .report import ImportReport
from .staged import write_labels

LABEL_TYPES = {
    "path": pa.string(), "class": pa.string(), "x": pa.float64(), "y": pa.float64(), "w": pa.float64(),
    "h": pa.float64(), "polygon": pa.list_(pa.list_(pa.float64())), "area": pa.float64(), "iscrowd": pa.bool_(),
    "annotator": pa.string(), "source_id": pa.string(),
    "mask": MASK_TYPE, "keypoints": pa.list_(pa.float64()), "num_keypoints": pa.int32(),
}
CLASS_TYPES = {"class_id": pa.int32(), "class": pa.string(), "supercategory": pa.string(),
               "keypoints": pa.list_(pa.string()), "skeleton": pa.list_(pa.list_(pa.int32()))}
IMAGE_TYPES = {"path": pa.string(), "split": pa.string(), "source_id": pa.string()}


@dataclass
class DatasetBatch:
    """A parsed dataset: `images` has path, split, source_id, the probe columns and extras;
    `labels` the columns of LABEL_TYPES (missing ones are NULL) and extras; `notes` extra
    error rows (path, message) for images whose problem does not abort the import."""

    name: str
    root: Path
    format: str
    source: str
    task: str
    images: pa.Table
    classes: pa.Table
    labels: pa.Table
    image_extras: dict[str, pa.Array] = field(default_factory=dict)
    label_extras: dict[str, pa.Array] = field(default_factory=dict)
    notes: pa.Table | None = None
    label_stream: Iterable[pa.Table] | None = None  # labels yielded batch by batch (then `labels` is unused)


def conform(table: pa.Table, types: dict[str, pa.DataType], extras: dict[str, pa.Array]) -> pa.Table:
    """The core columns in order (NULL where absent), cast to their types, then the extras."""
    n = table.num_rows
    columns = {name: (table[name].cast(t) if name in table.column_names else pa.nulls(n, t)) for name, t in types.items()}
    for name, t in types.items():
        if t == pa.float64() and name in table.column_names:  # NaN from numpy means "no value"
            columns[name] = pc.if_else(pc.is_nan(columns[name]), pa.scalar(None, t), columns[name])
    columns.update(extras)
    return pa.table(columns)


def _upsert_sql(table: str, columns: list[str], select: str, conflict: tuple[str, ...], keep: tuple[str, ...] = ()) -> str:
    quoted = [f'"{c}"' for c in columns]
    updates = ", ".join(
        f'{q} = COALESCE(excluded.{q}, {table}.{q})' if c in keep else f"{q} = excluded.{q}"
        for c, q in zip(columns, quoted) if c not in conflict
    )
    return f"INSERT INTO {table} ({', '.join(quoted)}) {select} ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"


def upsert_labels_sql(label_cols: list[str]) -> str:
    """Insert or update the labels of `_qmdb_labels` (its `path` joined to dataset `$name`'s images) by
    (image_id, source_id); area defaults to the box's, iscrowd to false."""
    select = ("SELECT i.image_id, " + ", ".join(
        "COALESCE(l.area, l.w * l.h)" if c == "area" else "COALESCE(l.iscrowd, false)" if c == "iscrowd"
        else f'l."{c}"' for c in label_cols)
        + " FROM _qmdb_labels l JOIN images i ON i.dataset = $name AND i.path = l.path")
    return _upsert_sql("labels", ["image_id", *label_cols], select, ("image_id", "source_id"))


def _dataset_root(con: duckdb.DuckDBPyConnection, batch: DatasetBatch) -> Path:
    rows = con.execute("SELECT root, task FROM datasets WHERE name = ?", [batch.name]).fetchall()
    if not rows:
        return batch.root
    root, task = rows[0]
    if task and task != batch.task:
        raise InputError(batch.source, None, f"dataset '{batch.name}' holds {task} labels; this is a {batch.task} "
                         "import: choose another --name")
    return Path(root)


def write_dataset(con: duckdb.DuckDBPyConnection, batch: DatasetBatch) -> ImportReport:
    """Upsert a parsed dataset in one transaction and report what was written."""
    try:
        return _write(con, batch)
    except duckdb.ConversionException as error:
        raise InputError(batch.source, None, "a metadata field does not fit the type of its existing column: "
                         f"{str(error).splitlines()[0]}") from None


def _write(con: duckdb.DuckDBPyConnection, batch: DatasetBatch) -> ImportReport:
    report = ImportReport(batch.format, batch.name)
    with transaction(con):
        root = _dataset_root(con, batch)
        images, labels = batch.images, batch.labels
        moved = root.resolve() != Path(batch.root).resolve()

        def relocate(table: pa.Table) -> pa.Table:
            if not moved:
                return table
            paths = relative_paths(table["path"].to_pylist(), batch.root, root)
            return table.set_column(table.column_names.index("path"), "path", pa.array(paths, pa.string()))

        images, labels = relocate(images), relocate(labels) if batch.label_stream is None else labels
        con.execute(
            "INSERT INTO datasets (name, root, format, source, task) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET format = excluded.format, source = excluded.source, task = excluded.task, imported_at = now()",
            [batch.name, str(Path(root).resolve()), batch.format, batch.source, batch.task],
        )
        report.columns_added += add_columns(con, "images", sql_types(con, batch.image_extras))
        image_cols = ["path", "split", "source_id", "width", "height", "file_size", "sha256", "status"]
        img = pa.table({**{c: images[c] for c in image_cols}, **batch.image_extras})
        history = Batch(None, f"import:{batch.format}:{batch.source}", f"import of dataset '{batch.name}'")
        if batch.label_stream is not None:
            with registered(con, _qmdb_images=img, _qmdb_classes=conform(batch.classes, CLASS_TYPES, {})):
                recorder = Recorder(con, history, keep_empty=False)
                _images_and_classes(con, batch, img)
                report.labels, report.removed, added = write_labels(con, batch, recorder, conform, LABEL_TYPES, relocate)
                report.columns_added += added
                recorder.close()
                report.errors = _record_errors(con, batch, img, root)
            report.images = img.num_rows
            return report
        report.columns_added += [f"labels.{c}" for c in add_columns(con, "labels", sql_types(con, batch.label_extras))]
        lab = conform(labels, LABEL_TYPES, batch.label_extras)
        with registered(con, _qmdb_images=img, _qmdb_labels=lab, _qmdb_classes=conform(batch.classes, CLASS_TYPES, {})):
            with recording(con, history, _IMPORTED_LABELS, {"name": batch.name}, keep_empty=False):
                _images_and_classes(con, batch, img)
                label_cols = [c for c in lab.column_names if c != "path"]
                con.execute(upsert_labels_sql(label_cols), {"name": batch.name})
                report.removed = _remove_stale_labels(con, batch.name)
            report.errors = _record_errors(con, batch, img, root)
        report.images, report.labels = img.num_rows, lab.num_rows
    return report


def _images_and_classes(con: duckdb.DuckDBPyConnection, batch: DatasetBatch, img: pa.Table) -> None:
    columns = ["dataset", *img.column_names]
    select = "SELECT $name, " + ", ".join(f'"{c}"' for c in img.column_names) + " FROM _qmdb_images"
    con.execute(_upsert_sql("images", columns, select, ("dataset", "path"), keep=("split",)), {"name": batch.name})
    con.execute(
        "INSERT INTO classes (dataset, class_id, class, supercategory, keypoints, skeleton) SELECT $name, class_id, "
        "class, supercategory, keypoints, skeleton FROM _qmdb_classes ON CONFLICT (dataset, class) DO UPDATE SET "
        "class_id = excluded.class_id, supercategory = COALESCE(excluded.supercategory, classes.supercategory), "
        "keypoints = COALESCE(excluded.keypoints, classes.keypoints), "
        "skeleton = COALESCE(excluded.skeleton, classes.skeleton)", {"name": batch.name})


_IMPORTED_IDS = "SELECT i.image_id FROM images i JOIN _qmdb_images n ON i.dataset = $name AND i.path = n.path"
_IMPORTED_LABELS = f"SELECT label_id FROM labels WHERE image_id IN ({_IMPORTED_IDS})"


def _remove_stale_labels(con: duckdb.DuckDBPyConnection, name: str) -> int:
    stale = (f"SELECT l.label_id FROM labels l WHERE l.image_id IN ({_IMPORTED_IDS}) AND NOT EXISTS ("
             "SELECT 1 FROM _qmdb_labels n JOIN images i ON i.dataset = $name AND i.path = n.path "
             "WHERE i.image_id = l.image_id AND n.source_id = l.source_id)")
    count = con.execute(f"SELECT count(*) FROM ({stale})", {"name": name}).fetchall()[0][0]
    if count:
        con.execute(f"DELETE FROM labels WHERE label_id IN ({stale})", {"name": name})
    return count


def _record_errors(con: duckdb.DuckDBPyConnection, batch: DatasetBatch, img: pa.Table, root: Path) -> int:
    """Replace this import's error rows for the imported images: one per flagged image and note."""
    notes = batch.notes if batch.notes is not None else pa.table({"path": pa.array([], pa.string()),
                                                                    "message": pa.array([], pa.string())})
    problems = pa.table({"path": batch.images["path"], "message": batch.images["message"]}).filter(
        batch.images["message"].is_valid())
    rows = pa.concat_tables([problems, notes.select(["path", "message"]).cast(problems.schema)])
    rows = rows.append_column("file", joined(batch.root, rows["path"].combine_chunks()))
    if root.resolve() != Path(batch.root).resolve():
        rows = rows.set_column(0, "path", pa.array(relative_paths(rows["path"].to_pylist(), batch.root, root), pa.string()))
    con.execute(f"DELETE FROM errors WHERE stage = 'import' AND dataset = $name AND image_id IN ({_IMPORTED_IDS})",
                {"name": batch.name})
    with registered(con, _qmdb_errors=rows):
        con.execute(
            "INSERT INTO errors (dataset, image_id, file, stage, message) SELECT $name, i.image_id, e.file, 'import', "
            "e.message FROM _qmdb_errors e LEFT JOIN images i ON i.dataset = $name AND i.path = e.path",
            {"name": batch.name})
    return rows.num_rows
