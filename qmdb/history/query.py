"""Reading label history: the versions of a label, a batch or a period, and the diff of the labels
between two points in time (a timestamp or a snapshot's time).

>>> import pyarrow as pa, qmdb
>>> from qmdb.history import apply_changes, versions
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png')")
>>> b = apply_changes(con, pa.table({"op": ["insert"], "image_id": [1], "class": ["cat"]}), author="ana", source="doc")
>>> b = apply_changes(con, pa.table({"op": ["update"], "label_id": [1], "class": ["dog"]}), author="bo", source="doc")
>>> versions(con, label_id=1).select("version, op, old_class, new_class, author").fetchall()
[(2, 'update', 'cat', 'dog', 'bo'), (1, 'insert', None, 'cat', 'ana')]
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from ..errors import QmdbError


class HistoryError(QmdbError):
    """A point in time that is neither a timestamp nor a snapshot, or an unknown batch."""


def versions(con: duckdb.DuckDBPyConnection, *, label_id: int | None = None, since: str | datetime | None = None,
             batch: int | None = None) -> duckdb.DuckDBPyRelation:
    """The rows of the `label_history` view for one label, since a time, and/or of one batch, newest first."""
    since_at = point(con, since) if since is not None else None
    return con.sql(
        "SELECT * FROM label_history WHERE ($label IS NULL OR label_id = $label) "
        "AND ($since IS NULL OR created_at >= $since) AND ($batch IS NULL OR batch_id = $batch)",
        params={"label": label_id, "since": since_at, "batch": batch})


def batches(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Every batch, newest first: who, from where, why, when, how many labels, undone by which."""
    return con.sql("SELECT batch_id, author, source, reason, changes, undoes, undone_by, created_at "
                   "FROM label_batches ORDER BY batch_id DESC")


def point(con: duckdb.DuckDBPyConnection, when: str | datetime) -> datetime:
    """A point in time: a datetime, a timestamp string ('2026-12-02 04:00', 'now'), or a snapshot's name."""
    if isinstance(when, datetime):
        return when
    rows = con.execute("SELECT created_at FROM snapshots WHERE name = ?", [when]).fetchall()
    if rows:
        return rows[0][0]
    parsed = con.execute("SELECT CASE WHEN lower(?) = 'now' THEN now()::TIMESTAMP ELSE TRY_CAST(? AS TIMESTAMP) END",
                         [when, when]).fetchall()[0][0]
    if parsed is None:
        raise HistoryError(f"'{when}' is neither a timestamp (YYYY-MM-DD[ HH:MM[:SS]]) nor a snapshot's name")
    return parsed


def diff(con: duckdb.DuckDBPyConnection, start: str | datetime, end: str | datetime) -> duckdb.DuckDBPyRelation:
    """Labels added, removed or changed between two points in time (timestamps or snapshot names):
    change, label_id, image_id, changed columns, class and box before and after, the rows as JSON."""
    a, b = point(con, start), point(con, end)
    return con.sql("""
        SELECT CASE WHEN a.label_id IS NULL THEN 'added' WHEN b.label_id IS NULL THEN 'removed' ELSE 'changed' END
                   AS change,
               coalesce(b.label_id, a.label_id) AS label_id,
               coalesce(b.image_id, a.image_id) AS image_id,
               list_filter(json_keys(coalesce(b.row, a.row)), lambda k: k <> 'label_id'
                   AND nullif(json_extract(a.row, '$."' || k || '"')::VARCHAR, 'null')
                       IS DISTINCT FROM nullif(json_extract(b.row, '$."' || k || '"')::VARCHAR, 'null'))
                   AS changed,
               a.class AS before_class, b.class AS after_class,
               CASE WHEN a.w IS NOT NULL THEN [a.x, a.y, a.w, a.h] END AS before_box,
               CASE WHEN b.w IS NOT NULL THEN [b.x, b.y, b.w, b.h] END AS after_box,
               a.row AS before, b.row AS after
        FROM labels_at(at_time := $a) a FULL JOIN labels_at(at_time := $b) b ON a.label_id = b.label_id
        WHERE a.label_id IS NULL OR b.label_id IS NULL OR a.row::VARCHAR <> b.row::VARCHAR
        ORDER BY change, label_id""", params={"a": a, "b": b})
