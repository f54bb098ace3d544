"""Snapshots: a view's result frozen inside the project file, and the diff of two.

A snapshot records the view, the parameters it ran with (defaults filled in),
the view's SQL at that moment, its columns and types, the row count, the time,
and the versions it was computed from: the schema, every model (with when it
was imported), every table that records versions (metric versions), and a
fingerprint (row count and hash) of images, labels and predictions. Rows are
stored as JSON in `snapshot_rows`, each with a key: the first id column the
result has that is unique in it (`prediction_id`, `label_id`, `image_id`, ...),
else the whole row. Two snapshots diff by that key: which rows entered, which
left, which changed.

>>> import qmdb
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path, width) VALUES (1, 'd', 'a.png', 10), (2, 'd', 'b.png', 30)")
>>> _ = qmdb.save_view(con, "wide", "SELECT image_id, path FROM images WHERE width >= min_width",
...                    "Wide images.", {"min_width": ("INTEGER", "20")})
>>> qmdb.snapshot(con, "wide", "wide_v1").rows
1
>>> qmdb.snapshot(con, "wide", "wide_v2", params={"min_width": 5}).rows
2
>>> qmdb.diff_snapshots(con, "wide_v1", "wide_v2").fetchall()
[('entered', '{"image_id":1}', None, '{"image_id":1,"path":"a.png"}')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from . import views
from .errors import QmdbError
from .schema import migrations, schema_version
from .transaction import transaction

KEY_COLUMNS = ("prediction_id", "label_id", "match_id", "tag_id", "error_id", "image_id", "item_id")
FINGERPRINTED = ("images", "labels", "predictions")

SCHEMA = migrations("snapshots")(
    [
        """
        CREATE TABLE IF NOT EXISTS snapshots (
            name VARCHAR PRIMARY KEY,
            view VARCHAR NOT NULL,
            parameters JSON NOT NULL,
            sql VARCHAR NOT NULL,
            columns JSON NOT NULL,
            key_columns VARCHAR[] NOT NULL,
            row_count BIGINT NOT NULL,
            versions JSON NOT NULL,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS snapshot_rows (
            snapshot VARCHAR NOT NULL,
            row_number BIGINT NOT NULL,
            key VARCHAR NOT NULL,
            row JSON NOT NULL,
            PRIMARY KEY (snapshot, row_number)
        );
        """,
    ]
)


class SnapshotError(QmdbError):
    """A snapshot that cannot be taken, found or compared."""


@dataclass(frozen=True)
class Snapshot:
    name: str
    view: str
    parameters: dict
    rows: int
    key_columns: tuple[str, ...]
    created_at: datetime
    versions: dict
    note: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "view": self.view, "parameters": self.parameters, "rows": self.rows,
                "key_columns": list(self.key_columns), "created_at": self.created_at.isoformat(),
                "versions": self.versions, "note": self.note}


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()", [table]
    ).fetchall()[0][0])


def versions(con: duckdb.DuckDBPyConnection) -> dict:
    """What a result was computed from: schema, models, version tables, data fingerprints."""
    found: dict = {"schema": schema_version(con)}
    if _exists(con, "models"):
        found["models"] = json.loads(con.execute(
            "SELECT coalesce(to_json(list(m ORDER BY model)), '[]')::VARCHAR FROM models m").fetchall()[0][0])
    tables = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND table_name LIKE '%version%' AND table_name NOT IN ('schema_migrations', 'label_versions') ORDER BY 1").fetchall()]
    for table in tables:
        found[table] = json.loads(con.execute(
            f'SELECT coalesce(to_json(list(t)), \'[]\')::VARCHAR FROM (SELECT * FROM "{table}" LIMIT 10000) t'
        ).fetchall()[0][0])
    if _exists(con, "label_batches"):  # the label history is named by its last batch, not copied
        found["label_batch"] = con.execute("SELECT max(batch_id) FROM label_batches").fetchall()[0][0]
    found["data"] = {
        table: dict(zip(("rows", "hash"), con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0)::VARCHAR FROM {table} t").fetchall()[0]))
        for table in FINGERPRINTED if _exists(con, table)
    }
    return found


def _key_columns(con: duckdb.DuckDBPyConnection, query: str, values: list, columns: list[str], key: list[str] | None) -> list[str]:
    if key is not None:
        missing = [k for k in key if k not in columns]
        if missing:
            raise SnapshotError(f"key column(s) {', '.join(missing)} not in the view's columns: {', '.join(columns)}")
        return list(key)
    for name in KEY_COLUMNS:
        if name in columns:
            total, distinct = con.execute(
                f'SELECT count(*), count(DISTINCT "{name}") FROM ({query}) t', values).fetchall()[0]
            if total == distinct:
                return [name]
    return []


def snapshot(con: duckdb.DuckDBPyConnection, view: str, name: str, *, params: dict | None = None,
             note: str | None = None, key: list[str] | None = None, replace: bool = False) -> Snapshot:
    """Freeze the result of `view` run with `params` as snapshot `name`, in one transaction."""
    if not views.NAME.match(name):
        raise SnapshotError(f"snapshot name '{name}' must be lower-case letters, digits and underscores")
    the_view = views.get(con, view)
    query, values = the_view.call_sql(params)
    try:
        relation = con.sql(query, params=values)
    except duckdb.Error as error:
        raise SnapshotError(f"view {view}: {str(error).splitlines()[0]}") from None
    columns = [{"name": c, "type": str(t)} for c, t in zip(relation.columns, relation.types)]
    names = [c["name"] for c in columns]
    key_columns = _key_columns(con, query, values, names, key)
    key_sql = ("to_json(struct_pack(" + ", ".join(f'"{k}" := qmdb_row."{k}"' for k in key_columns) + "))::VARCHAR"
               if key_columns else
               "to_json(qmdb_row)::VARCHAR || '#' || row_number() OVER (PARTITION BY to_json(qmdb_row)::VARCHAR)")
    given = {p.name: (params or {}).get(p.name, p.default) for p in the_view.params}
    try:
        with transaction(con):
            if replace:
                con.execute("DELETE FROM snapshot_rows WHERE snapshot = ?", [name])
                con.execute("DELETE FROM snapshots WHERE name = ?", [name])
            elif con.execute("SELECT count(*) FROM snapshots WHERE name = ?", [name]).fetchall()[0][0]:
                raise SnapshotError(f"a snapshot named '{name}' exists; pass replace=True (--replace) to overwrite it")
            con.execute(
                f"INSERT INTO snapshot_rows SELECT ?, row_number() OVER (), {key_sql}, to_json(qmdb_row) FROM ({query}) qmdb_row",
                [name, *values])
            count = con.execute("SELECT count(*) FROM snapshot_rows WHERE snapshot = ?", [name]).fetchall()[0][0]
            con.execute(
                "INSERT INTO snapshots (name, view, parameters, sql, columns, key_columns, row_count, versions, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [name, view, json.dumps(given, default=str), the_view.sql, json.dumps(columns), key_columns, count,
                 json.dumps(versions(con), default=str), note])
    except duckdb.Error as error:
        raise SnapshotError(f"snapshot {name}: {str(error).splitlines()[0]}") from None
    return get(con, name)


def _from_row(row: tuple) -> Snapshot:
    name, view, parameters, key_columns, count, created_at, found, note = row
    return Snapshot(name, view, json.loads(parameters), count, tuple(key_columns), created_at, json.loads(found), note)


_SELECT = "SELECT name, view, parameters, key_columns, row_count, created_at, versions, note FROM snapshots"


def list_snapshots(con: duckdb.DuckDBPyConnection) -> list[Snapshot]:
    """Every snapshot, oldest first (none when the file predates snapshots)."""
    if not _exists(con, "snapshots"):
        return []
    return [_from_row(r) for r in con.execute(_SELECT + " ORDER BY created_at, name").fetchall()]


def get(con: duckdb.DuckDBPyConnection, name: str) -> Snapshot:
    rows = con.execute(_SELECT + " WHERE name = ?", [name]).fetchall() if _exists(con, "snapshots") else []
    if not rows:
        known = ", ".join(s.name for s in list_snapshots(con))
        raise SnapshotError(f"no snapshot named '{name}'; known snapshots: {known or 'none'}")
    return _from_row(rows[0])


def rows_query(con: duckdb.DuckDBPyConnection, name: str) -> tuple[str, list]:
    """The query (and its bound values) that returns a snapshot's rows with their original columns and types."""
    get(con, name)
    columns = json.loads(con.execute("SELECT columns FROM snapshots WHERE name = ?", [name]).fetchall()[0][0])
    structure = json.dumps({c["name"]: c["type"] for c in columns})
    names = ", ".join('r."' + c["name"].replace('"', '""') + '"' for c in columns)
    return (f"SELECT {names} FROM (SELECT row_number, unnest(json_transform(row, ?)) FROM snapshot_rows "
            "WHERE snapshot = ?) r ORDER BY row_number", [structure, name])


def rows(con: duckdb.DuckDBPyConnection, name: str) -> duckdb.DuckDBPyRelation:
    """A snapshot's rows with the view's original columns and types, in their original order."""
    query, values = rows_query(con, name)
    return con.sql(query, params=values)


def diff_query(con: duckdb.DuckDBPyConnection, before: str, after: str) -> tuple[str, list]:
    """The query (and its bound values) behind `diff_snapshots`."""
    a, b = get(con, before), get(con, after)
    if a.key_columns != b.key_columns:
        raise SnapshotError(f"snapshots {before} and {after} are keyed differently "
                            f"({', '.join(a.key_columns) or 'whole row'} vs {', '.join(b.key_columns) or 'whole row'})")
    key = "coalesce(a.key, b.key)" if a.key_columns else "NULL::VARCHAR"
    return (
        f"SELECT CASE WHEN a.key IS NULL THEN 'entered' WHEN b.key IS NULL THEN 'left' ELSE 'changed' END AS change, "
        f"{key} AS key, a.row::VARCHAR AS before, b.row::VARCHAR AS after "
        "FROM (SELECT key, row, row_number FROM snapshot_rows WHERE snapshot = ?) a "
        "FULL JOIN (SELECT key, row, row_number FROM snapshot_rows WHERE snapshot = ?) b ON a.key = b.key "
        "WHERE a.key IS NULL OR b.key IS NULL OR a.row::VARCHAR <> b.row::VARCHAR "
        "ORDER BY change, coalesce(b.row_number, a.row_number)",
        [before, after])


def diff_snapshots(con: duckdb.DuckDBPyConnection, before: str, after: str) -> duckdb.DuckDBPyRelation:
    """Rows that entered (only in `after`), left (only in `before`) or changed (same key, other values).

    Columns: change, key (JSON of the key columns; NULL when rows are keyed by their
    whole content), before and after (the rows as JSON).
    """
    query, values = diff_query(con, before, after)
    return con.sql(query, params=values)


def delete(con: duckdb.DuckDBPyConnection, name: str) -> None:
    get(con, name)
    with transaction(con):
        con.execute("DELETE FROM snapshot_rows WHERE snapshot = ?", [name])
        con.execute("DELETE FROM snapshots WHERE name = ?", [name])
