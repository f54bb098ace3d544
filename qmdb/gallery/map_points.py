"""The points of the gallery's map view: each item's (x, y) of the embedding map and a colour value
read from any column — the item's class, split, dataset, cluster or latest tag, a column of `images`
(metadata), an image metric, or a model's correctness on the image.

The colourable columns are data (`CATEGORIES`, then what the project's tables hold), and one query
reads the values of every point. An image column colours a label's or a prediction's point by the
item's image.

>>> sorted(CATEGORIES)
['class', 'cluster', 'dataset', 'none', 'split', 'tag']
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..errors import QmdbError
from ..transaction import registered

# what an item's point can be coloured by, as SQL over `p` (item_id, image_id) with $item_type, $model
CATEGORIES = {
    "class": "CASE $item_type WHEN 'label' THEN (SELECT class FROM labels l WHERE l.label_id = p.item_id) "
             "WHEN 'prediction' THEN (SELECT class FROM predictions q WHERE q.prediction_id = p.item_id) "
             "ELSE (SELECT min(class) FROM labels l WHERE l.image_id = p.item_id) END",
    "split": "(SELECT split FROM images i WHERE i.image_id = p.image_id)",
    "dataset": "(SELECT dataset FROM images i WHERE i.image_id = p.image_id)",
    "cluster": "(SELECT min(cluster)::VARCHAR FROM clusters c WHERE c.item_id = p.item_id AND c.item_type = $item_type "
               "AND c.model = $model)",
    "tag": "(SELECT arg_max(tag, tag_id) FROM tags t WHERE t.item_type = $item_type AND t.item_id = p.item_id)",
    "none": "'all'",
}
# a model's correctness on an image, from `matches` at IoU 0.5 (classifiers: threshold NULL) and score >= 0.5
CORRECT = ("(SELECT CASE WHEN count(*) = 0 THEN NULL WHEN bool_or(m.outcome = 'FN') THEN 'missed' "
           "WHEN bool_or(m.outcome = 'FP' AND m.score >= 0.5) THEN 'spurious' ELSE 'correct' END "
           "FROM matches m WHERE m.model = $correct_model AND m.image_id = p.image_id "
           "AND (m.threshold IS NULL OR m.threshold = 0.5) AND (m.outcome <> 'FP' OR m.score >= 0.5))")
_NOT_COLOURS = {"image_id", "path", "sha256", "source_id", "versions", "status", "file_size"}
_IMAGE_OF = {"image": "m.item_id", "label": "(SELECT image_id FROM labels l WHERE l.label_id = m.item_id)",
             "prediction": "(SELECT image_id FROM predictions q WHERE q.prediction_id = m.item_id)"}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                       "AND database_name = current_database() AND schema_name = 'main' ORDER BY column_index",
                       [table]).fetchall()


def colour_options(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every `by` the map accepts: the categories, `correct:MODEL` per evaluated model, the columns of
    `images` and of `image_metrics`."""
    models = [r[0] for r in con.execute("SELECT DISTINCT model FROM matches ORDER BY model").fetchall()]
    columns = [c for c, _ in _columns(con, "images") + _columns(con, "image_metrics") if c not in _NOT_COLOURS]
    return list(dict.fromkeys(list(CATEGORIES) + [f"correct:{m}" for m in models] + columns))


def _colour_sql(con: duckdb.DuckDBPyConnection, by: str) -> tuple[str, str, dict]:
    """(SQL of the value, 'category' or 'number', extra parameters)."""
    if by in CATEGORIES:
        return CATEGORIES[by], "category", {}
    if by.startswith("correct:"):
        model = by.split(":", 1)[1]
        if not con.execute("SELECT count(*) FROM matches WHERE model = ?", [model]).fetchall()[0][0]:
            raise QmdbError(f"map: correct:{model}: model '{model}' has no evaluation (matches); run qmdb evaluate")
        return CORRECT, "category", {"correct_model": model}
    for table in ("images", "image_metrics"):
        types = dict(_columns(con, table))
        if by in types and by not in _NOT_COLOURS:
            numeric = any(t in types[by] for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL"))
            value = f'(SELECT x."{by}" FROM {table} x WHERE x.image_id = p.image_id)'
            return (f"TRY_CAST({value} AS DOUBLE)", "number", {}) if numeric else (f"{value}::VARCHAR", "category", {})
    raise QmdbError(f"map: by must be one of {', '.join(colour_options(con))}; not '{by}'")


def map_points(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
               by: str = "class", method: str = "auto") -> dict:
    """`{model, item_type, method, by, kind, points: [[item_id, image_id, x, y, value], ...]}` of the
    map of a model's vectors (stored, or computed now: `qmdb.embeddings.map.points`); `kind` says
    whether `value` is a category (text, NULL shown as '(none)') or a number."""
    from ..embeddings import map as embedding_map

    if item_type not in _IMAGE_OF:
        raise QmdbError(f"map: item_type must be one of {', '.join(_IMAGE_OF)}, not '{item_type}'")
    model, points = embedding_map.points(con, model, item_type, method)
    value, kind, extra = _colour_sql(con, by)
    if kind == "category":
        value = f"coalesce({value}, '(none)')"
    cursor = con.cursor()
    try:
        with registered(cursor, _qmdb_map=points.select(["item_id", "x", "y"])):
            sql = (f"SELECT p.item_id, p.image_id, p.x, p.y, {value} AS value FROM "
                   f"(SELECT m.item_id, {_IMAGE_OF[item_type]} AS image_id, m.x, m.y "
                   f"FROM _qmdb_map m) p ORDER BY p.item_id")
            params = {k: v for k, v in {"item_type": item_type, "model": model, **extra}.items() if f"${k}" in sql}
            table: pa.Table = cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.close()
    method_used = points.column("method")[0].as_py() if points.num_rows else method
    rows = [list(r) for r in zip(*(table[c].to_pylist() for c in table.column_names))]
    return {"model": model, "item_type": item_type, "method": method_used, "by": by, "kind": kind, "points": rows}
