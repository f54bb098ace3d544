"""Export: the images and labels any query, view or tag selects, as COCO JSON or YOLO folders.

A selection made in SQL goes straight back into a training pipeline: rows
carrying `label_id` export those labels (and their images); rows carrying only
`image_id` export those images with all their labels.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import coco, selection, yolo
from .report import ExportReport


def export_coco(con: duckdb.DuckDBPyConnection, out: str | Path, *, query: str | None = None,
                view: str | None = None, params: dict | None = None, tag: str | None = None) -> ExportReport:
    """Write the selected images and labels as one COCO instances JSON file `out`.

    Args:
        con: a qmdb connection.
        out: the JSON file to write.
        query: SQL whose rows carry `label_id` or `image_id`; or
        view: a view's name, run with `params`; or
        tag: a tag (the labels, or images with all their labels, tagged with it).
    """
    sql, values = selection.query_of(con, query, view, params, tag)
    try:
        selection.select(con, sql, values)
        return coco.write(con, Path(out), query or (f"tag {tag}" if tag is not None else f"view {view} {params or {}}"))
    finally:
        selection.drop(con)


def export_yolo(con: duckdb.DuckDBPyConnection, out: str | Path, *, query: str | None = None,
                view: str | None = None, params: dict | None = None, images: str = "symlink",
                segments: bool = False, tag: str | None = None) -> ExportReport:
    """Write the selected images and labels as a YOLO folder `out` (data.yaml, labels/, images/).

    `images` is "symlink" (default), "copy" or "none" (label files and data.yaml only); `segments`
    writes polygons and masks as YOLO segmentation lines (see `qmdb.export.yolo`).
    """
    sql, values = selection.query_of(con, query, view, params, tag)
    try:
        selection.select(con, sql, values)
        return yolo.write(con, Path(out), images, segments)
    finally:
        selection.drop(con)


__all__ = ["ExportReport", "export_coco", "export_yolo"]
