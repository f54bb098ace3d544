"""Recording a change to `labels` as label versions: snapshot the labels in scope before, diff
after, in SQL.

Every path that writes `labels` (changes, fixes, undo, imports) runs inside `recording`: the rows
in scope are copied to a temporary table first; when the block ends the rows in scope (and those
that were) are compared column by column, and each label that differs gets a version: 'insert'
(it was not there), 'delete' (it is gone) or 'update' (with the columns that changed). A label
whose row is unchanged gets none. Metric rows of changed labels are dropped, so `qmdb metrics`
computes them again from the new geometry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

BEFORE, AFTER = "_qmdb_labels_before", "_qmdb_labels_after"
METRIC_TABLES = ("label_metrics", "mask_metrics")


def label_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The columns of `labels` (metadata extras included) and their SQL types, in table order."""
    return dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'labels' "
        "AND table_schema = current_schema() ORDER BY ordinal_position").fetchall())


@dataclass
class Batch:
    """A change set being recorded: its id once `recording` opened it, and the versions it wrote."""

    author: str | None
    source: str
    reason: str | None = None
    undoes: int | None = None
    batch_id: int = 0
    changes: int = 0
    authors: str | None = field(default=None)  # a table (label_id, author, reason): per-label overrides


def open_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> int:
    batch.batch_id = con.execute(
        "INSERT INTO label_batches (author, source, reason, undoes) VALUES (?, ?, ?, ?) RETURNING batch_id",
        [batch.author, batch.source, batch.reason, batch.undoes]).fetchall()[0][0]
    return batch.batch_id


class Recorder:
    """One batch recorded in parts: `part(scope)` records what its block does to the labels in
    `scope`, as `recording` does, and adds the versions to the same batch; `close()` ends it. An
    import writes its labels chunk by chunk so: each chunk's snapshot and diff are set-based and
    bounded, and the batch is still one."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch: Batch, keep_empty: bool = True):
        self.con, self.batch, self.keep_empty = con, batch, keep_empty
        batch.changes = 0
        open_batch(con, batch)

    @contextmanager
    def part(self, scope: str, params: dict | None = None) -> Iterator[Batch]:
        con, params = self.con, params or {}
        con.execute(f"CREATE OR REPLACE TEMP TABLE {BEFORE} AS SELECT * FROM labels WHERE label_id IN ({scope})", params)
        try:
            yield self.batch
            con.execute(f"CREATE OR REPLACE TEMP TABLE {AFTER} AS SELECT * FROM labels WHERE label_id IN ({scope}) "
                        f"OR label_id IN (SELECT label_id FROM {BEFORE})", params)
            self.batch.changes += _write_versions(con, self.batch)
        finally:
            for name in (BEFORE, AFTER):
                try:
                    con.execute(f"DROP TABLE IF EXISTS {name}")
                except duckdb.TransactionException:  # an aborted transaction: its ROLLBACK drops them
                    pass

    def close(self) -> None:
        con, batch = self.con, self.batch
        if batch.changes or self.keep_empty:
            con.execute("UPDATE label_batches SET changes = ? WHERE batch_id = ?", [batch.changes, batch.batch_id])
        else:
            con.execute("DELETE FROM label_batches WHERE batch_id = ?", [batch.batch_id])
        for table in METRIC_TABLES:
            con.execute(f"DELETE FROM {table} WHERE label_id IN (SELECT label_id FROM label_versions "
                        "WHERE batch_id = ? AND op <> 'insert')", [batch.batch_id])


@contextmanager
def recording(con: duckdb.DuckDBPyConnection, batch: Batch, scope: str, params: dict | None = None,
              keep_empty: bool = True) -> Iterator[Batch]:
    """Record what the block does to the labels whose ids `scope` (a SELECT of label_id) returns,
    before or after, as one batch. Runs inside the caller's transaction. With `keep_empty=False`
    a batch that changed nothing leaves no row in `label_batches`."""
    recorder = Recorder(con, batch, keep_empty)
    with recorder.part(scope, params):
        yield batch
    recorder.close()


def _write_versions(con: duckdb.DuckDBPyConnection, batch: Batch) -> int:
    before = {c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {BEFORE})").fetchall()}
    columns = [c for c in label_columns(con) if c != "label_id" and c in before]
    changed = ", ".join(f"CASE WHEN a.\"{c}\" IS DISTINCT FROM b.\"{c}\" THEN '{c}' END" for c in columns)
    authors = (f"LEFT JOIN {batch.authors} au ON au.label_id = d.label_id" if batch.authors
               else "LEFT JOIN (SELECT NULL::BIGINT AS label_id, NULL::VARCHAR AS author, NULL::VARCHAR AS reason) au ON false")
    return con.execute(f"""
        INSERT INTO label_versions (label_id, version, batch_id, op, changed, old, new, author, source, reason, created_at)
        WITH d AS (
            SELECT coalesce(a.label_id, b.label_id) AS label_id,
                   CASE WHEN b.label_id IS NULL THEN 'insert' WHEN a.label_id IS NULL THEN 'delete' ELSE 'update' END AS op,
                   list_filter([{changed}], lambda c: c IS NOT NULL) AS changed,
                   CASE WHEN b.label_id IS NOT NULL THEN to_json(b) END AS old,
                   CASE WHEN a.label_id IS NOT NULL THEN to_json(a) END AS new
            FROM {BEFORE} b FULL JOIN {AFTER} a ON a.label_id = b.label_id
        ),
        last AS (
            SELECT label_id, max(version) AS version FROM label_versions
            WHERE label_id IN (SELECT label_id FROM d) GROUP BY label_id
        )
        SELECT d.label_id, coalesce(last.version, 0) + 1, $batch, d.op, d.changed, d.old, d.new,
               coalesce(au.author, $author), $source, coalesce(au.reason, $reason), now()::TIMESTAMP
        FROM d LEFT JOIN last USING (label_id) {authors}
        WHERE len(d.changed) > 0 OR d.op <> 'update'
    """, {"batch": batch.batch_id, "author": batch.author, "source": batch.source,
          "reason": batch.reason}).fetchall()[0][0]
