"""A first import's labels: inserted in one statement, recorded as version 1 of each in another.

When none of the imported images has a label yet, the diff `qmdb.history.record` computes
(snapshot before, snapshot after, full join) can only find inserts; this writes the same
`label_versions` rows from `labels` directly: op 'insert', `changed` the columns that hold a
value, `new` the row as JSON, the version after any the label id already has.
"""

from __future__ import annotations

import duckdb

from ..history.record import Batch, label_columns


def unlabelled(con: duckdb.DuckDBPyConnection, images: str) -> bool:
    """Whether none of the images `images` selects has a label (so an import of them only inserts)."""
    return not con.execute(f"SELECT count(*) FROM labels WHERE image_id IN ({images})").fetchall()[0][0]


def label_values(columns: list[str]) -> str:
    """The SELECT list of staged label columns: area defaults to the box's, iscrowd to false."""
    return ", ".join("COALESCE(area, w * h)" if c == "area" else "COALESCE(iscrowd, false)" if c == "iscrowd"
                     else f'"{c}"' for c in columns)


def insert_labels(con: duckdb.DuckDBPyConnection, columns: list[str], select: str, order: str) -> None:
    """Insert the rows of `select` (image_id and `columns`) into `labels`, label ids in `order`."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"INSERT INTO labels (image_id, {quoted}) SELECT image_id, {label_values(columns)} FROM ({select}) "
                f"ORDER BY {order}")


def record_inserts(con: duckdb.DuckDBPyConnection, batch: Batch, images: str) -> int:
    """Version rows (op 'insert') of every label of the images `images` selects; returns how many."""
    scope = f"SELECT label_id FROM labels WHERE image_id IN ({images})"
    changed = ", ".join(f"CASE WHEN l.\"{c}\" IS NOT NULL THEN '{c}' END" for c in label_columns(con) if c != "label_id")
    return con.execute(f"""
        INSERT INTO label_versions (label_id, version, batch_id, op, changed, old, new, author, source, reason, created_at)
        SELECT l.label_id, coalesce(last.version, 0) + 1, $batch, 'insert', list_filter([{changed}], lambda c: c IS NOT NULL),
               NULL, to_json(l), $author, $source, $reason, now()::TIMESTAMP
        FROM labels l LEFT JOIN (SELECT label_id, max(version) AS version FROM label_versions
                                 WHERE label_id IN ({scope}) GROUP BY label_id) last ON last.label_id = l.label_id
        WHERE l.image_id IN ({images})
    """, {"batch": batch.batch_id, "author": batch.author, "source": batch.source,
          "reason": batch.reason}).fetchall()[0][0]
