"""`undo`: restore the labels a batch changed to their state before it, as a new batch.

A batch can be undone while every label it touched is still as the batch left it; a label
changed since (by a later batch not undone) makes `undo` refuse, naming that batch. Undoing the
undo batch redoes the original.
"""

from __future__ import annotations

import duckdb

from ..errors import QmdbError
from ..transaction import transaction
from .record import Batch, label_columns, recording

NESTED = ("[", "STRUCT", "MAP", "UNION")


class UndoError(QmdbError):
    """A batch that cannot be undone: unknown, already undone, or overtaken by later changes."""


def _restore(column: str, sql_type: str) -> str:
    """The old value of `column`, typed, from a version's JSON row."""
    nested = any(marker in sql_type.upper() for marker in NESTED)
    return f"CAST(old->{'' if nested else '>'}'{column}' AS {sql_type})"


def undo(con: duckdb.DuckDBPyConnection, batch_id: int, *, author: str | None) -> int:
    """Restore the state before batch `batch_id`; returns the id of the new batch that did it."""
    with transaction(con):
        rows = con.execute("SELECT undone_by FROM label_batches WHERE batch_id = ?", [batch_id]).fetchall()
        if not rows:
            raise UndoError(f"no label batch {batch_id} (qmdb history DB lists them)")
        if rows[0][0] is not None:
            raise UndoError(f"batch {batch_id} was already undone by batch {rows[0][0]}")
        moved = con.execute("""
            SELECT v.label_id, (SELECT max(w.batch_id) FROM label_versions w WHERE w.label_id = v.label_id) AS later
            FROM label_versions v LEFT JOIN labels l ON l.label_id = v.label_id
            WHERE v.batch_id = $b AND ((v.new IS NULL) <> (l.label_id IS NULL) OR to_json(l)::VARCHAR <> v.new::VARCHAR)
            ORDER BY 1 LIMIT 1""", {"b": batch_id}).fetchall()
        if moved:
            label_id, later = moved[0]
            raise UndoError(f"label {label_id} changed after batch {batch_id} (in batch {later}); undo batch {later} first")
        scope = "SELECT label_id FROM label_versions WHERE batch_id = $b"
        batch = Batch(author, "undo", f"undo of batch {batch_id}", undoes=batch_id)
        columns = label_columns(con)
        with recording(con, batch, scope, {"b": batch_id}):
            con.execute("DELETE FROM labels WHERE label_id IN (SELECT label_id FROM label_versions "
                        "WHERE batch_id = $b AND op <> 'delete')", {"b": batch_id})
            names = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join(_restore(c, t) for c, t in columns.items())
            con.execute(f"INSERT INTO labels ({names}) SELECT {values} FROM label_versions "
                        "WHERE batch_id = $b AND op <> 'insert'", {"b": batch_id})
        con.execute("UPDATE label_batches SET undone_by = ? WHERE batch_id = ?", [batch.batch_id, batch_id])
    return batch.batch_id
