"""`apply_changes`: a table of label changes (insert, update, delete) applied in one transaction,
set-based, and recorded as one batch of label versions.

>>> import pyarrow as pa, qmdb
>>> from qmdb.history import apply_changes
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png')")
>>> batch = apply_changes(con, pa.table({"op": ["insert"], "label_id": pa.nulls(1, pa.int64()),
...                                     "image_id": [1], "class": ["cat"]}), author="ana", source="doc")
>>> con.sql("SELECT class, source_id LIKE 'qmdb-%' FROM labels").fetchall()
[('cat', True)]
>>> con.sql("SELECT op, author, source FROM label_versions WHERE batch_id = $b", params={"b": batch}).fetchall()
[('insert', 'ana', 'doc')]
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..errors import InputError
from ..transaction import transaction
from .record import Batch, label_columns, recording

OPS = ("insert", "update", "delete")
PER_ROW = ("author", "reason")  # optional columns that override the batch's author / reason per label
CHANGES, INSERTS, AUTHORS = "_qmdb_changes", "_qmdb_inserts", "_qmdb_change_authors"
SCOPE = (f"SELECT label_id FROM {CHANGES} WHERE op <> 'insert' AND label_id IS NOT NULL "
         f"UNION ALL SELECT label_id FROM {INSERTS}")


def _fail(source: str, field: str, message: str, ids: list) -> None:
    shown = ", ".join(str(i) for i in ids[:5]) + (", …" if len(ids) > 5 else "")
    raise InputError(source, field, f"{message}: {shown}")


def _check(con: duckdb.DuckDBPyConnection, changes: pa.Table, source: str) -> list[str]:
    """The label columns the table sets; raises on anything that would apply only in part."""
    known = label_columns(con)
    names = changes.column_names
    if "op" not in names:
        raise InputError(source, "op", "the changes need an 'op' column (insert, update or delete)")
    unknown = [c for c in names if c not in known and c not in ("op", *PER_ROW)]
    if unknown:
        raise InputError(source, unknown[0], f"not a column of labels (they are: {', '.join(known)})")
    columns = [c for c in names if c in known and c != "label_id"]

    def ids(sql: str) -> list:
        return [r[0] for r in con.execute(sql).fetchall()]

    if bad := ids(f"SELECT DISTINCT coalesce(op, 'NULL') FROM {CHANGES} WHERE op IS NULL OR op NOT IN {OPS} LIMIT 6"):
        _fail(source, "op", "must be insert, update or delete, got", bad)
    if bad := ids(f"SELECT label_id FROM {CHANGES} WHERE op = 'insert' AND label_id IS NOT NULL LIMIT 6"):
        _fail(source, "label_id", "an insert gets a new label_id; these are not null", bad)
    if ids(f"SELECT 1 FROM {CHANGES} WHERE op <> 'insert' AND label_id IS NULL LIMIT 1"):
        raise InputError(source, "label_id", "an update or delete needs the label_id of an existing label")
    if bad := ids(f"SELECT label_id FROM {CHANGES} WHERE op <> 'insert' GROUP BY label_id HAVING count(*) > 1 "
                  "ORDER BY 1 LIMIT 6"):
        _fail(source, "label_id", "more than one change to one label", bad)
    if bad := ids(f"SELECT c.label_id FROM {CHANGES} c ANTI JOIN labels l ON l.label_id = c.label_id "
                  "WHERE c.op <> 'insert' ORDER BY 1 LIMIT 6"):
        _fail(source, "label_id", "no label with these ids", bad)
    for column in ("image_id", "class"):
        if ids(f"SELECT 1 FROM {CHANGES} WHERE op = 'insert' LIMIT 1") and (
                column not in names or ids(f"SELECT 1 FROM {CHANGES} WHERE op = 'insert' AND \"{column}\" IS NULL LIMIT 1")):
            raise InputError(source, column, "an insert needs an image_id and a class")
        if column in names and ids(f"SELECT 1 FROM {CHANGES} WHERE op = 'update' AND \"{column}\" IS NULL LIMIT 1"):
            raise InputError(source, column, "an update cannot set it to null")
    if "image_id" in names and (bad := ids(
            f"SELECT DISTINCT c.image_id FROM {CHANGES} c ANTI JOIN images i ON i.image_id = c.image_id "
            "WHERE c.op <> 'delete' AND c.image_id IS NOT NULL ORDER BY 1 LIMIT 6")):
        _fail(source, "image_id", "no image with these ids", bad)
    return columns


def apply_changes(con: duckdb.DuckDBPyConnection, changes: pa.Table, *, author: str | None, source: str,
                  reason: str | None = None) -> int:
    """Apply label changes in one transaction and record each as a label version; returns the batch id.

    `changes` has `op` ('insert' | 'update' | 'delete'), `label_id` (null for an insert) and any
    label columns; optional `author` and `reason` columns override `author` / `reason` per row. An update sets the
    columns present and keeps the others; an insert needs image_id and class (source_id is
    'qmdb-<label_id>' when absent). Unknown ids, ops or columns raise one `InputError` and apply nothing.
    It runs in a transaction of its own (call it outside one); an update whose row equals the label
    records no version.
    """
    if "label_id" not in changes.column_names:
        changes = changes.append_column("label_id", pa.nulls(changes.num_rows, pa.int64()))
    try:
        with transaction(con, **{CHANGES: changes}):
            columns = _check(con, changes, source)
            return _apply(con, changes, columns, Batch(author, source, reason))
    except (duckdb.ConversionException, duckdb.ConstraintException) as error:
        raise InputError(source, None, f"the changes do not fit labels: {str(error).splitlines()[0]}") from None


def _apply(con: duckdb.DuckDBPyConnection, changes: pa.Table, columns: list[str], batch: Batch) -> int:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {INSERTS} AS SELECT nextval('label_id_seq') AS label_id, "
                f"* EXCLUDE (op, label_id) FROM {CHANGES} WHERE op = 'insert'")
    given = [c for c in PER_ROW if c in changes.column_names]
    if given:
        select = ", ".join(f"{c}::VARCHAR AS {c}" if c in given else f"NULL::VARCHAR AS {c}" for c in PER_ROW)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {AUTHORS} AS SELECT label_id, {select} FROM {INSERTS} "
                    f"UNION ALL SELECT label_id, {select} FROM {CHANGES} WHERE op <> 'insert'")
        batch.authors = AUTHORS
    try:
        with recording(con, batch, SCOPE):
            _insert(con, columns)
            if columns:
                sets = ", ".join(f'"{c}" = c."{c}"' for c in columns)
                con.execute(f"UPDATE labels SET {sets} FROM {CHANGES} c WHERE c.op = 'update' AND labels.label_id = c.label_id")
            con.execute(f"DELETE FROM labels WHERE label_id IN (SELECT label_id FROM {CHANGES} WHERE op = 'delete')")
    finally:
        for name in (INSERTS, AUTHORS):
            try:
                con.execute(f"DROP TABLE IF EXISTS {name}")
            except duckdb.TransactionException:
                pass
    return batch.batch_id


def _insert(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    values = {c: f'"{c}"' for c in columns}
    values["source_id"] = f"coalesce({values.get('source_id', 'NULL')}, 'qmdb-' || label_id)"
    if "iscrowd" in values:
        values["iscrowd"] = 'coalesce("iscrowd", false)'
    if "w" in values and "h" in values:
        values["area"] = f"coalesce({values.get('area', 'NULL')}, \"w\" * \"h\")"
    names = ", ".join(f'"{c}"' for c in values)
    con.execute(f"INSERT INTO labels (label_id, {names}) SELECT label_id, {', '.join(values.values())} FROM {INSERTS}")
