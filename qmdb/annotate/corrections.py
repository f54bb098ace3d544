"""The shapes a tool gives back, turned into label changes (the table `qmdb.history.apply_changes` takes).

Each returned shape is matched to one label of the task's images:

1. by id: the `label_id` the shape carries, where that label is on the same
   image and of the same kind (image-level or with geometry); a second shape
   claiming the same id (a copy in the tool) is matched like a new one;
2. by IoU of the boxes, one-to-one per image and class, greedily from the
   best pair down, at `MIN_IOU` or more (the tools that drop our ids);
3. by IoU in the same way regardless of class (the annotator changed a
   label's class in a tool that dropped its id); image-level labels pair
   within an image in order, first within a class, then regardless of it.

A matched pair is an `update` where the class or the geometry differs
(coordinates by more than `TOLERANCE` pixels, the precision CVAT writes: a
round trip through a tool is no change); an unmatched shape is an `insert`;
a label of a task's image that nothing matched is a `delete` (the annotator
removed it). Geometry comes as the tool returns it: a changed box drops a
polygon and mask it no longer agrees with; a polygon brings its mask
(pycocotools, as the COCO importer makes it) and its bounds as the box; a
mask brings its box and area. Each row carries the annotator the file names
as `author`; an inserted label also gets them as its `annotator`.
"""

from __future__ import annotations

import uuid

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..transaction import registered
from .matching import greedy

MIN_IOU = 0.5
TOLERANCE = 0.01
COLUMNS = ["op", "label_id", "image_id", "class", "x", "y", "w", "h", "polygon", "mask", "area", "annotator",
           "source_id", "author"]
_IOU = ("greatest(0, least(s.x + s.w, e.x + e.w) - greatest(s.x, e.x)) * greatest(0, least(s.y + s.h, e.y + e.h) "
        "- greatest(s.y, e.y))")


def check_classes(con: duckdb.DuckDBPyConnection, file: str) -> None:
    """Every returned class is a class of its image's dataset (where the dataset lists classes)."""
    bad = con.execute("""
        SELECT s.field, s.class, i.dataset, (SELECT string_agg(class, ', ' ORDER BY class_id) FROM classes c
                                              WHERE c.dataset = i.dataset)
        FROM _qmdb_shapes s JOIN images i USING (image_id)
        WHERE EXISTS (SELECT 1 FROM classes c WHERE c.dataset = i.dataset)
          AND NOT EXISTS (SELECT 1 FROM classes c WHERE c.dataset = i.dataset AND c.class = s.class)
        ORDER BY s.rid LIMIT 1""").fetchall()
    if bad:
        field, cls, dataset, known = bad[0]
        raise InputError(file, field, f"class '{cls}' is not a class of dataset '{dataset}' ({known})")


def _pairs(con: duckdb.DuckDBPyConnection, same_class: bool, geometric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one pairs (rid, label_id) among the shapes and labels not yet matched."""
    cls = "AND s.class = e.class" if same_class else ""
    if geometric:
        score = f"{_IOU} / nullif(s.w * s.h + e.w * e.h - {_IOU}, 0)"
        where = f"s.kind <> 'tag' AND e.x IS NOT NULL AND s.w IS NOT NULL AND {score} >= {MIN_IOU}"
    else:
        score = "1.0"
        where = "s.kind = 'tag' AND e.x IS NULL"
    found = con.sql(f"""
        SELECT s.rid, e.label_id, {score} AS score FROM _qmdb_shapes s JOIN _qmdb_existing e
        ON e.image_id = s.image_id {cls}
        WHERE {where} AND s.rid NOT IN (SELECT rid FROM _qmdb_pairs) AND e.label_id NOT IN (SELECT label_id FROM _qmdb_pairs)
        ORDER BY s.rid, e.label_id""").to_arrow_table()
    a, b, score = (found[c].to_numpy() for c in ("rid", "label_id", "score"))
    return greedy(a, b, score)


def changes(con: duckdb.DuckDBPyConnection, shapes: pa.Table, scope: pa.Table, *, file: str, tool: str,
            tags: bool = True) -> pa.Table:
    """The label changes that make the labels of the `scope` images (image_id, author) what `shapes` says
    (see the module); a deletion is the image's author's. `tags=False`: the format has no image-level
    labels, so those are left as they are."""
    token = uuid.uuid4().hex[:8]
    with registered(con, _qmdb_shapes=shapes, _qmdb_scope=scope):
        check_classes(con, file)
        con.execute("CREATE OR REPLACE TEMP TABLE _qmdb_existing AS SELECT l.*, sc.author AS _author FROM labels l "
                    "JOIN _qmdb_scope sc USING (image_id)" + ("" if tags else " WHERE l.x IS NOT NULL"))
        con.execute("""CREATE OR REPLACE TEMP TABLE _qmdb_pairs AS
            SELECT s.rid, e.label_id FROM _qmdb_shapes s JOIN _qmdb_existing e
            ON e.label_id = s.label_id AND e.image_id = s.image_id AND (s.kind = 'tag') = (e.x IS NULL)
            QUALIFY row_number() OVER (PARTITION BY e.label_id ORDER BY s.rid) = 1""")
        try:
            for geometric in (True, False):
                for same_class in (True, False):
                    rid, label_id = _pairs(con, same_class, geometric)
                    with registered(con, _qmdb_new_pairs=pa.table({"rid": rid, "label_id": label_id})):
                        con.execute("INSERT INTO _qmdb_pairs SELECT rid, label_id FROM _qmdb_new_pairs")
            return _rows(con, tool, token)
        finally:
            con.execute("DROP TABLE IF EXISTS _qmdb_existing")
            con.execute("DROP TABLE IF EXISTS _qmdb_pairs")


def _rows(con: duckdb.DuckDBPyConnection, tool: str, token: str) -> pa.Table:
    t = TOLERANCE
    same_polygon = (f"(len(e.polygon) = len(s.polygon) AND len(flatten(e.polygon)) = len(flatten(s.polygon)) AND "
                    f"coalesce(list_max(list_transform(range(1, len(flatten(s.polygon)) + 1), "
                    f"lambda i: abs(flatten(s.polygon)[i] - flatten(e.polygon)[i]))), 0) <= {t})")
    moved = " OR ".join(f"abs(s.{c} - e.{c}) > {t} OR e.{c} IS NULL" for c in "xywh")
    geometry = f"""CASE s.kind WHEN 'tag' THEN false
                   WHEN 'box' THEN {moved}
                   WHEN 'polygon' THEN e.polygon IS NULL OR NOT {same_polygon}
                   ELSE e.mask IS NULL OR e.mask.counts <> s.mask.counts OR e.mask.size <> s.mask.size END"""
    new = {c: f"CASE WHEN g.changed THEN s.{c} ELSE e.{c} END" for c in ("x", "y", "w", "h", "area", "polygon", "mask")}
    return con.sql(f"""
        WITH g AS (SELECT p.rid, p.label_id, {geometry} AS changed FROM _qmdb_pairs p
                   JOIN _qmdb_shapes s USING (rid) JOIN _qmdb_existing e ON e.label_id = p.label_id)
        SELECT 'update' AS op, e.label_id, e.image_id, s.class, {new['x']} AS x, {new['y']} AS y, {new['w']} AS w,
               {new['h']} AS h, {new['polygon']} AS polygon, {new['mask']} AS mask, {new['area']} AS area,
               e.annotator, e.source_id, s.author, s.rid AS _order
        FROM g JOIN _qmdb_shapes s USING (rid) JOIN _qmdb_existing e ON e.label_id = g.label_id
        WHERE g.changed OR s.class <> e.class
        UNION ALL
        SELECT 'insert', NULL, s.image_id, s.class, s.x, s.y, s.w, s.h, s.polygon, s.mask, s.area, s.author,
               '{tool}-{token}-' || s.rid, s.author, s.rid
        FROM _qmdb_shapes s WHERE s.rid NOT IN (SELECT rid FROM _qmdb_pairs)
        UNION ALL
        SELECT 'delete', e.label_id, e.image_id, e.class, e.x, e.y, e.w, e.h, e.polygon, e.mask, e.area, e.annotator,
               e.source_id, e._author, NULL
        FROM _qmdb_existing e WHERE e.label_id NOT IN (SELECT label_id FROM _qmdb_pairs)
        ORDER BY op DESC, _order, label_id""").to_arrow_table().drop(["_order"])
