"""To annotation tools and back: send a selection to CVAT or Label Studio, load the corrections as label changes.

`export_cvat` / `export_labelstudio` write a task for the images a query, a
view or a tag selects (every label of those images goes along, so the
annotator sees what is there and what is missing); `load_annotations` reads
the tool's export (CVAT for images 1.1 XML, COCO from CVAT, Label Studio
JSON), matches each shape to a label (`qmdb.annotate.corrections`) and applies
the changes as one batch of label versions (`qmdb.history.apply_changes`),
each attributed to the annotator the file names.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..export import selection
from ..export.report import ExportReport
from . import coco, corrections, cvat, images, labelstudio

READERS = {"cvat": cvat.read, "coco": coco.read, "labelstudio": labelstudio.read}


def _task(con, out: Path, query, view, params, tag, mode: str, url: str | None) -> pa.Table:
    """Select, place the images; the task's images as (image_id, name, ref, width, height)."""
    sql, values = selection.query_of(con, query, view, params, tag)
    selection.select(con, sql, values)
    # a task holds whole images: every label of a selected image goes along
    con.execute("CREATE OR REPLACE TEMP TABLE _qmdb_export_labels AS SELECT l.* FROM labels l "
                "WHERE l.image_id IN (SELECT image_id FROM _qmdb_export_images)")
    table = images.names(con)
    refs = images.place(table, out, mode, url)
    return pa.table({"image_id": table["image_id"], "name": table["name"], "ref": pa.array(refs, pa.string()),
                     "width": table["width"], "height": table["height"]})


def export_cvat(con: duckdb.DuckDBPyConnection, out: str | Path, *, query: str | None = None, view: str | None = None,
                params: dict | None = None, tag: str | None = None, images: str = "link", url: str | None = None,
                task: str | None = None, owner: str | None = None) -> ExportReport:
    """Write a CVAT task folder `out`: `annotations.xml` (CVAT for images 1.1) and the images (`images`:
    "link", "copy", or "url" with `url` the address of `qmdb serve`, listed in `images.txt`)."""
    out = Path(out)
    try:
        refs = _task(con, out, query, view, params, tag, images, url)
        shapes = cvat.write(con, out / "annotations.xml", refs, task or (view or tag or "qmdb selection"), owner)
    finally:
        selection.drop(con)
    return ExportReport("cvat", out / "annotations.xml", refs.num_rows, shapes)


def export_labelstudio(con: duckdb.DuckDBPyConnection, out: str | Path, *, query: str | None = None,
                       view: str | None = None, params: dict | None = None, tag: str | None = None,
                       images: str = "link", url: str | None = None, models: list[str] | None = None) -> ExportReport:
    """Write a Label Studio folder `out`: `tasks.json` (with the predictions of `models`, default every model,
    as pre-annotations), `label_config.xml`, and the images (`images` as for `export_cvat`; link and copy
    give `/data/local-files/?d=images/…` URLs, for Label Studio's local files with `out` as document root)."""
    out = Path(out)
    try:
        refs = _task(con, out, query, view, params, tag, images, url)
        if images != "url":
            refs = refs.set_column(refs.schema.get_field_index("ref"), "ref",
                                   pc.binary_join_element_wise("/data/local-files/?d=", refs["ref"], ""))
        n_labels, _ = labelstudio.write(con, out / "tasks.json", refs, models)
    finally:
        selection.drop(con)
    return ExportReport("labelstudio", out / "tasks.json", refs.num_rows, n_labels)


@dataclass
class LoadReport:
    """What one load of corrections did; `str()` is the line the CLI prints."""

    format: str
    path: Path
    images: int
    updated: int
    added: int
    deleted: int
    batch: int | None

    def __str__(self) -> str:
        batch = f" (batch {self.batch})" if self.batch is not None else " (nothing applied)"
        return (f"{self.format} corrections from {self.path}: {self.images} images, {self.updated} updated, "
                f"{self.added} added, {self.deleted} deleted{batch}")


def detect(file: str | Path) -> str:
    """The format of a tool's export by its content: CVAT XML, a COCO object, or a Label Studio task list."""
    path = Path(file)
    if not path.is_file():
        raise InputError(file, None, "no such file")
    with path.open("rb") as f:
        head = f.read(4096).lstrip()
    if head.startswith(b"<"):
        return "cvat"
    if head.startswith(b"["):
        return "labelstudio"
    if head.startswith(b"{"):
        return "coco"
    raise InputError(file, None, "not a CVAT XML, COCO JSON or Label Studio JSON export")


def read_changes(con: duckdb.DuckDBPyConnection, file: str | Path, *, format: str | None = None,
                 author: str | None = None) -> tuple[pa.Table, pa.Table]:
    """(the label changes a tool's export asks for, the task's images); nothing is applied."""
    format = format or detect(file)
    if format not in READERS:
        raise InputError(file, None, f"format must be one of {', '.join(READERS)}, not {format!r}")
    read = READERS[format](file, author)
    shapes, scope = read.table(con)
    return corrections.changes(con, shapes, scope, file=str(file), tool=format, tags=read.tags), scope


def load_annotations(con: duckdb.DuckDBPyConnection, file: str | Path, *, format: str | None = None,
                     author: str | None = None, reason: str | None = None, dry_run: bool = False) -> LoadReport:
    """Apply a tool's export as corrections: one batch of label changes (see the module). `author` is who
    made the changes where the file names nobody (default: the login name); `dry_run` only counts them."""
    format = format or detect(file)
    author = author or getpass.getuser()
    changes, scope = read_changes(con, file, format=format, author=author)
    counts = {op: pc.sum(pc.equal(changes["op"], op)).as_py() or 0 for op in ("update", "insert", "delete")}
    batch = None
    if changes.num_rows and not dry_run:
        from ..history import apply_changes

        batch = apply_changes(con, changes, author=author, source=f"{format}:{Path(file).name}", reason=reason)
    return LoadReport(format, Path(file), scope.num_rows, counts["update"], counts["insert"], counts["delete"], batch)


__all__ = ["LoadReport", "export_cvat", "export_labelstudio", "load_annotations", "read_changes"]
