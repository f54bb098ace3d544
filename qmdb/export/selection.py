"""What to export: the images and labels a query, a view or a tag selects.

Rows carrying `label_id` select those labels (and their images); rows carrying
only `image_id` select those images with all their labels. A tag selects the
labels tagged with it (as `label_id` rows) and, where images or predictions
carry it, those images (of the predictions) with all their labels; when both
kinds carry it, the images of all of them (`tag_query`). The selection is
materialized into temporary tables `_qmdb_export_images` and
`_qmdb_export_labels` that the writers read with SQL.
"""

from __future__ import annotations

import duckdb

from .. import views
from ..errors import QmdbError


def tag_query(con: duckdb.DuckDBPyConnection, tag: str) -> tuple[str, list]:
    """The SQL selecting what `tag` is on (see the module's docstring), the tag written in as a literal (so
    any export format can take it as a query); a tag on nothing is an error."""
    kinds = {k for (k,) in con.execute("SELECT DISTINCT item_type FROM tags WHERE tag = ?", [tag]).fetchall()}
    if not kinds:
        raise QmdbError(f"no image, label or prediction is tagged '{tag}'")
    literal = "'" + str(tag).replace("'", "''") + "'"
    if kinds == {"label"}:
        return f"SELECT item_id AS label_id FROM tags WHERE tag = {literal} AND item_type = 'label'", []
    return (f"SELECT image_id FROM images WHERE image_id IN (SELECT item_id FROM tags WHERE tag = {literal} "
            f"AND item_type = 'image') OR image_id IN (SELECT l.image_id FROM labels l JOIN tags t ON "
            f"t.item_id = l.label_id AND t.item_type = 'label' AND t.tag = {literal}) "
            f"OR image_id IN (SELECT p.image_id FROM predictions p JOIN tags t ON t.item_id = p.prediction_id "
            f"AND t.item_type = 'prediction' AND t.tag = {literal})", [])


def query_of(con: duckdb.DuckDBPyConnection, query: str | None, view: str | None,
             params: dict | None, tag: str | None = None) -> tuple[str, list]:
    """The SQL and bound values of `query`, of `view` run with `params`, or of `tag`."""
    if sum(x is not None for x in (query, view, tag)) != 1:
        raise QmdbError("export needs exactly one of a query, a view or a tag")
    if tag is not None:
        if params:
            raise QmdbError("parameters go with a view, not a tag")
        return tag_query(con, tag)
    if view is not None:
        return views.get(con, view).call_sql(params or {})
    if params:
        raise QmdbError("parameters go with a view; write the values into the query")
    return query.strip().rstrip(";"), []


def select(con: duckdb.DuckDBPyConnection, query: str, values: list) -> dict[str, int]:
    """Materialize the selected images and labels; returns their counts."""
    try:
        columns = {c.lower() for c in con.sql(f"SELECT * FROM ({query}) LIMIT 0", params=values).columns}
    except duckdb.Error as error:
        raise QmdbError(f"the export query failed: {str(error).splitlines()[0]}") from None
    if "label_id" in columns:
        labels = f"SELECT l.* FROM labels l WHERE l.label_id IN (SELECT label_id FROM ({query}))"
        images = "SELECT * FROM images WHERE image_id IN (SELECT image_id FROM _qmdb_export_labels)"
        order = ["labels", "images"]
    elif "image_id" in columns:
        images = f"SELECT * FROM images WHERE image_id IN (SELECT image_id FROM ({query}))"
        labels = "SELECT l.* FROM labels l WHERE l.image_id IN (SELECT image_id FROM _qmdb_export_images)"
        order = ["images", "labels"]
    else:
        raise QmdbError(f"the export query returns no image_id or label_id column (it returns {', '.join(sorted(columns))})")
    sql = {"images": images, "labels": labels}
    for table in order:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _qmdb_export_{table} AS {sql[table]}",
                    values if table == order[0] else [])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _qmdb_export_classes AS "
        "SELECT c.dataset, c.class_id, c.class, c.supercategory, c.keypoints, c.skeleton FROM classes c "
        "WHERE c.dataset IN (SELECT DISTINCT dataset FROM _qmdb_export_images)")
    return {t: con.execute(f"SELECT count(*) FROM _qmdb_export_{t}").fetchall()[0][0] for t in ("images", "labels")}


def category_ids(con: duckdb.DuckDBPyConnection) -> None:
    """`_qmdb_export_categories(class, id, supercategory)`: the source class ids when they agree across the
    exported datasets, else 0..n-1 by class name; `yolo_index` is the class's rank by that id."""
    consistent = con.execute(
        "SELECT (SELECT count(*) FROM (SELECT class FROM _qmdb_export_classes GROUP BY class HAVING count(DISTINCT class_id) > 1)) = 0 "
        "AND (SELECT count(*) FROM (SELECT class_id FROM _qmdb_export_classes GROUP BY class_id HAVING count(DISTINCT class) > 1)) = 0"
    ).fetchall()[0][0]
    ident = "min(class_id)" if consistent else "(dense_rank() OVER (ORDER BY class) - 1)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _qmdb_export_categories AS SELECT class, id, supercategory, "
        f"CAST(row_number() OVER (ORDER BY id) - 1 AS INTEGER) AS yolo_index FROM ("
        f"SELECT class, CAST({ident} AS INTEGER) AS id, any_value(supercategory) AS supercategory "
        f"FROM _qmdb_export_classes GROUP BY class)")


def extra_columns(con: duckdb.DuckDBPyConnection, table: str, core: set[str]) -> list[str]:
    """Metadata columns of `images`/`labels` (not core) that have a value in the selection."""
    columns = [c for c in con.sql(f"SELECT * FROM {table} LIMIT 0").columns if c.lower() not in core]
    if not columns:
        return []
    counts = con.execute("SELECT " + ", ".join(f'count("{c}")' for c in columns) + f" FROM {table}").fetchall()[0]
    return [c for c, n in zip(columns, counts) if n]


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("images", "labels", "classes", "categories"):
        con.execute(f"DROP TABLE IF EXISTS _qmdb_export_{table}")
