"""COCO instances JSON from a selection, built by DuckDB (json_object / json_group_array).

Image and annotation ids are the source ids when they are all integers and
unique, else qmdb's ids; category ids are `classes.class_id` (see
`selection.category_ids`). `file_name` is the image path relative to the
dataset root, recorded as `info.root` (the COCO importer's default root, so
the file re-imports as is), or an absolute path when the selection spans
datasets with different roots. Metadata columns (and `annotator`) come back
as image / annotation fields where they have a value: a NULL is left out, not
written as `null`. Image-level labels (no box) are not written. `segmentation`
is the polygon rings where the label has them, else its mask as COCO compressed
RLE (`{"size": [h, w], "counts": "..."}`, pixel-exact); `keypoints`,
`num_keypoints` and the categories' `keypoints` / `skeleton` are written where set.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..importers.extras import CORE_COLUMNS
from . import selection
from .report import ExportReport


def _id(con: duckdb.DuckDBPyConnection, table: str, own: str, where: str = "") -> str:
    """`source_id` as the id when every one is a unique integer, else `own`."""
    usable = con.execute(
        f"SELECT count(*) = count(TRY_CAST(source_id AS BIGINT)) AND count(DISTINCT TRY_CAST(source_id AS BIGINT)) = "
        f"count(*) FROM {table} {where}").fetchall()[0][0]
    return "TRY_CAST(source_id AS BIGINT)" if usable else own


def _object(core: str, optional: list[str], prefix: str) -> str:
    """`json_object(core…)` with the `optional` columns added where they are not NULL (a JSON merge
    patch adds a key only for a non-null value)."""
    if not optional:
        return f"json_object({core})"
    fields = ", ".join(f"'{c}', {prefix}\"{c}\"" for c in optional)
    return f"json_merge_patch(json_object({core}), json_object({fields}))"


def write(con: duckdb.DuckDBPyConnection, out: Path, query: str) -> ExportReport:
    roots = [r for (r,) in con.execute("SELECT DISTINCT d.root FROM _qmdb_export_images i JOIN datasets d "
                                       "ON d.name = i.dataset").fetchall()]
    file_name = "i.path" if len(roots) <= 1 else "d.root || '/' || i.path"
    image_id = _id(con, "_qmdb_export_images", "image_id")
    boxed = "WHERE x IS NOT NULL"
    label_id = _id(con, "_qmdb_export_labels", "label_id", boxed)
    image_extra = selection.extra_columns(con, "_qmdb_export_images", CORE_COLUMNS["images"])
    label_extra = selection.extra_columns(con, "_qmdb_export_labels", CORE_COLUMNS["labels"])
    selection.category_ids(con)
    image_object = _object("'id', out_id, 'file_name', out_name, 'width', width, 'height', height", image_extra, "")
    label_object = _object("'id', lab.out_id, 'image_id', img.out_id, 'category_id', c.id, "
                           "'bbox', [lab.x, lab.y, lab.w, lab.h], 'area', lab.area, "
                           "'iscrowd', CAST(lab.iscrowd AS INTEGER), 'segmentation', "
                           "COALESCE(to_json(lab.polygon), to_json(lab.mask), to_json([]))",
                           ["keypoints", "num_keypoints", "annotator", *label_extra], "lab.")
    category_object = _object("'id', c.id, 'name', c.class, 'supercategory', c.supercategory", ["keypoints", "skeleton"], "k.")
    document = con.execute(f"""
        WITH img AS (SELECT i.*, {image_id} AS out_id, {file_name} AS out_name
                     FROM _qmdb_export_images i JOIN datasets d ON d.name = i.dataset),
             lab AS (SELECT l.*, {label_id} AS out_id FROM _qmdb_export_labels l {boxed})
        SELECT json_object(
            'info', json_object('description', 'qmdb export', 'query', ?::VARCHAR, 'root', ?::VARCHAR),
            'images', (SELECT COALESCE(to_json(list({image_object} ORDER BY out_id)), '[]') FROM img),
            'annotations', (SELECT COALESCE(to_json(list({label_object} ORDER BY lab.out_id)), '[]')
                       FROM lab JOIN img ON img.image_id = lab.image_id JOIN _qmdb_export_categories c ON c.class = lab.class),
            'categories', (SELECT COALESCE(to_json(list({category_object} ORDER BY c.id)), '[]')
                       FROM _qmdb_export_categories c LEFT JOIN (SELECT class, any_value(keypoints) AS keypoints,
                       any_value(skeleton) AS skeleton FROM _qmdb_export_classes GROUP BY class) k ON k.class = c.class)
        )""", [query, roots[0] if len(roots) == 1 else None]).fetchall()[0][0]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    counts = con.execute(f"SELECT (SELECT count(*) FROM _qmdb_export_images), (SELECT count(*) FROM _qmdb_export_labels "
                         f"{boxed}), (SELECT count(*) FROM _qmdb_export_labels WHERE x IS NULL)").fetchall()[0]
    return ExportReport("coco", out, *counts)
