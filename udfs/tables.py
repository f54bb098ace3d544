"""The metric tables: `image_metrics`, `label_metrics` and the `metric_versions` catalogue.

Each metric table has one row per image (label) and one column per metric,
plus `versions`, a MAP(metric → version) saying at which version each value
of that row was computed. A row is stale for a metric when its version there
differs from the registered one, so a changed metric is recomputed alone, an
interrupted run resumes where it stopped, and a row is never written twice
(chunks are upserts, one transaction each). Columns of custom metrics are
added when they first run. `image_location(root, path)` is the path rule in SQL
(where an image is read from) and `image_file(image_id)` applies it to an image.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..schema import add_columns, migrations
from . import arrow
from .registry import Metric

TABLES = {"image": ("image_metrics", "image_id"), "label": ("label_metrics", "label_id")}

ARROW_TYPES = {
    "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
    "UBIGINT": pa.uint64(), "VARCHAR": pa.string(),
}

# Where an image (alias i, its dataset alias d) is read from: the path rule, `qmdb.uris.location`.
FILE_SQL = "image_location(d.root, i.path)"

# The path rule in SQL, defined here only (see `qmdb.uris.location`, the same rule in Python): a URI or an
# absolute path as itself, else joined to the root; a relative root (the empty one too) starts at the
# database file's folder, as DuckDB names it (none for an in-memory database: the working directory).
LOCATION_MACRO = """
CREATE OR REPLACE MACRO image_location(root, path) AS CASE
    WHEN path IS NULL OR root IS NULL THEN NULL
    WHEN contains(path, '://') OR starts_with(path, '/') THEN path
    WHEN contains(root, '://') OR starts_with(root, '/') THEN rtrim(root, '/') || '/' || path
    ELSE concat_ws('/', (SELECT rtrim(parse_dirpath(db.path), '/') FROM duckdb_databases() db
                         WHERE db.database_name = current_database()), nullif(rtrim(root, '/'), ''), path)
END;
"""

METRICS = migrations("metrics")(
    [
        """
        CREATE TABLE IF NOT EXISTS metric_versions (
            item_type VARCHAR NOT NULL CHECK (item_type IN ('image', 'label')),
            metric VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            sql_type VARCHAR NOT NULL,
            sql_function VARCHAR,
            description VARCHAR NOT NULL,
            unit VARCHAR,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (item_type, metric)
        );
        CREATE TABLE IF NOT EXISTS image_metrics (
            image_id BIGINT PRIMARY KEY,
            width INTEGER, height INTEGER, aspect_ratio DOUBLE, area BIGINT,
            brightness DOUBLE, contrast DOUBLE, saturation DOUBLE, colorfulness DOUBLE,
            redness DOUBLE, greenness DOUBLE, blueness DOUBLE,
            sharpness DOUBLE, blurriness DOUBLE, entropy DOUBLE, noise DOUBLE,
            is_dark BOOLEAN, is_overexposed BOOLEAN, is_low_information BOOLEAN, is_grayscale BOOLEAN,
            phash UBIGINT,
            versions MAP(VARCHAR, INTEGER) NOT NULL
        );
        CREATE TABLE IF NOT EXISTS label_metrics (
            label_id BIGINT PRIMARY KEY,
            box_area DOUBLE, area_rel DOUBLE, box_aspect_ratio DOUBLE, center_x DOUBLE, center_y DOUBLE,
            border_distance DOUBLE, out_of_bounds BOOLEAN,
            box_brightness DOUBLE, box_contrast DOUBLE, box_sharpness DOUBLE,
            class_frequency DOUBLE, max_iou_same_class DOUBLE, max_iou_other_class DOUBLE,
            is_too_large BOOLEAN, is_tiny BOOLEAN,
            versions MAP(VARCHAR, INTEGER) NOT NULL
        );
        CREATE OR REPLACE MACRO image_file(id) AS (
            SELECT CASE WHEN i.path[1] = '/' OR d.root = '' THEN i.path ELSE rtrim(d.root, '/') || '/' || i.path END FROM images i JOIN datasets d ON d.name = i.dataset WHERE i.image_id = id
        );
        """,
        # the one path rule (image_location), which image_file and every reader of images use
        LOCATION_MACRO + f"""
        CREATE OR REPLACE MACRO image_file(id) AS (
            SELECT {FILE_SQL} FROM images i JOIN datasets d ON d.name = i.dataset WHERE i.image_id = id
        );
        """,
    ]
)


def sync(con: duckdb.DuckDBPyConnection, metrics: list[Metric]) -> None:
    """Give every metric its column and its row in `metric_versions` (updated_at moves on a new version)."""
    for kind, (table, _) in TABLES.items():
        add_columns(con, table, {m.name: m.type for m in metrics if m.kind == kind})
    catalogue = pa.table({  # built from buffers: pa.array would import pandas (see `arrow`)
        "item_type": arrow.strings([m.kind for m in metrics]), "metric": arrow.strings([m.name for m in metrics]),
        "version": arrow.numbers(np.array([m.version for m in metrics], np.int32), pa.int32()),
        "sql_type": arrow.strings([m.type for m in metrics]), "sql_function": arrow.strings([m.sql_name for m in metrics]),
        "description": arrow.strings([m.description for m in metrics]), "unit": arrow.strings([m.unit for m in metrics]),
    })
    con.register("qmdb_metric_catalogue", catalogue)
    try:
        con.execute(
            "INSERT INTO metric_versions (item_type, metric, version, sql_type, sql_function, description, unit) "
            "SELECT * FROM qmdb_metric_catalogue ON CONFLICT (item_type, metric) DO UPDATE SET "
            "updated_at = CASE WHEN metric_versions.version <> excluded.version THEN now()::TIMESTAMP "
            "ELSE metric_versions.updated_at END, version = excluded.version, sql_type = excluded.sql_type, "
            "sql_function = excluded.sql_function, description = excluded.description, unit = excluded.unit"
        )
    finally:
        con.unregister("qmdb_metric_catalogue")


def names_sql(metrics: list[Metric]) -> str:
    """The metrics' names as an SQL list literal.

    >>> names_sql([])
    '[]::VARCHAR[]'
    """
    return "[" + ", ".join(f"'{m.name}'" for m in metrics) + "]::VARCHAR[]" if metrics else "[]::VARCHAR[]"


def need_sql(metrics: list[Metric], alias: str) -> str:
    """SQL list of the metric names a row (of table alias `alias`) lacks at their current version."""
    if not metrics:
        return "[]::VARCHAR[]"
    items = ", ".join(
        f"CASE WHEN {alias}.versions['{m.name}'] IS DISTINCT FROM {m.version} THEN '{m.name}' END" for m in metrics
    )
    return f"list_filter([{items}], lambda n: n IS NOT NULL)"


def upsert(con: duckdb.DuckDBPyConnection, kind: str, rows: pa.Table, fresh: np.ndarray | None = None) -> None:
    """Write a chunk's rows: new rows inserted; existing rows get only the metrics in the chunk's `versions`.
    ``fresh`` marks the rows known to be new (a plain insert, three times cheaper than the upsert)."""
    table, key = TABLES[kind]
    columns = [c for c in rows.column_names if c not in (key, "versions")]
    quoted = ", ".join([key, *(f'"{c}"' for c in columns), "versions"])
    name = f"qmdb_chunk_{kind}"
    if fresh is not None and fresh.any():
        con.register(name, rows if fresh.all() else rows.filter(arrow.booleans(fresh)))
        try:
            con.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {name}")
        finally:
            con.unregister(name)
        if fresh.all():
            return
        rows = rows.filter(arrow.booleans(~fresh))
    con.register(name, rows)
    try:
        updates = [
            f'"{c}" = CASE WHEN map_contains(excluded.versions, \'{c}\') THEN excluded."{c}" ELSE {table}."{c}" END'
            for c in columns
        ] + [f"versions = map_concat({table}.versions, excluded.versions)"]
        con.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {name} "
            f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(updates)}"
        )
    finally:
        con.unregister(name)
