"""What is computed from a model's vectors (`embedding_map`, `clusters`, `duplicate_groups`): which vectors,
and whether they changed since.

Each run records in `embedding_derived` the method, its parameters and the state of the vectors it read
(count and DuckDB's XOR of `hash(item_id, vector)`, as the index files do). `fresh` compares that record
with the table now, so an unchanged result is never recomputed and a changed one always is. `snapshot`
reads the vectors and that state in one scan: DuckDB hashes each row as it streams it out in Arrow
batches, numpy XORs the hashes, and the vectors land in one preallocated float32 array.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from ..transaction import transaction
from . import index as vector_index
from .models import resolve_model

TABLES = {"map": "embedding_map", "clusters": "clusters", "duplicates": "duplicate_groups"}
BATCH_ROWS = 65_536


def vectors_state(con: duckdb.DuckDBPyConnection, model: str, item_type: str) -> tuple[int, int]:
    """(count, hash of every (id, vector)) of a model's `item_type` vectors."""
    state = vector_index.table_state(con, model, item_type)
    return state.count, int(state.vectors or 0)


def _params(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def fresh(con: duckdb.DuckDBPyConnection, kind: str, model: str, item_type: str, method: str,
          params: dict) -> bool:
    """Whether `kind` was computed with this method and these parameters from the vectors as they are now."""
    rows = con.execute("SELECT method, params, vectors_count, vectors_hash FROM embedding_derived "
                       "WHERE kind = ? AND model = ? AND item_type = ?", [kind, model, item_type]).fetchall()
    return bool(rows) and tuple(rows[0]) == (method, _params(params), *vectors_state(con, model, item_type))


def load(con: duckdb.DuckDBPyConnection, model: str | None, item_type: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(the model meant, its ids, its vectors) — `model=None` means the only model with such vectors."""
    model = resolve_model(con, item_type, model)
    ids, vectors = vector_index.load_vectors(con, model, item_type)
    return model, ids, vectors


def snapshot(con: duckdb.DuckDBPyConnection, model: str, item_type: str
             ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(ids, float32 (n, dim) vectors, their state as `vectors_state` gives it), read in one scan of
    one read transaction."""
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        where = "FROM embeddings WHERE model = ? AND item_type = ?"
        count, dim = cur.execute(f"SELECT count(*), coalesce(max(len(vector)), 0) {where}",
                                 [model, item_type]).fetchall()[0]
        ids, vectors = np.empty(count, np.int64), np.empty((count, dim), np.float32)
        digest, start = np.uint64(0), 0
        reader = cur.sql(f"SELECT item_id, vector, hash(item_id, vector) {where}",
                         params=[model, item_type]).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            rows, lists = batch.num_rows, batch.column(1)
            if (np.diff(lists.offsets.to_numpy()) != dim).any():
                raise QmdbError(f"embeddings.vector: model '{model}' has {item_type} vectors of unequal length")
            flat = lists.flatten().to_numpy(zero_copy_only=False)
            ids[start:start + rows] = batch.column(0).to_numpy()
            vectors[start:start + rows] = flat.reshape(rows, dim)
            digest ^= np.bitwise_xor.reduce(batch.column(2).to_numpy(), initial=np.uint64(0))
            start += rows
        cur.execute("COMMIT")
    finally:
        cur.close()
    return ids, vectors, (int(count), int(digest))


def replace(con: duckdb.DuckDBPyConnection, kind: str, model: str, item_type: str, method: str, params: dict,
            table: pa.Table, select: str = "SELECT * FROM qmdb_derived_batch",
            state: tuple[int, int] | None = None) -> int:
    """In one transaction: the model's rows of `kind`'s table replaced by `select` over `table` (registered
    as `qmdb_derived_batch`, its columns after model and item_type), and the vectors' state recorded
    (`state`, that of the vectors `table` was computed from, as `snapshot` returns it; by default read now)."""
    name = TABLES[kind]
    count, digest = state or vectors_state(con, model, item_type)
    with transaction(con, qmdb_derived_batch=table):
        con.execute(f"DELETE FROM {name} WHERE model = ? AND item_type = ?", [model, item_type])
        con.execute(f"INSERT INTO {name} SELECT ?, ?, * FROM ({select})", [model, item_type])
        con.execute("INSERT OR REPLACE INTO embedding_derived (kind, model, item_type, method, params, "
                    "vectors_count, vectors_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [kind, model, item_type, method, _params(params), count, digest])
    return con.execute(f"SELECT count(*) FROM {name} WHERE model = ? AND item_type = ?",
                       [model, item_type]).fetchall()[0][0]


def recorded(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple[str, str, str, dict]]:
    """(kind, item_type, method, params) of everything derived from `model`'s vectors."""
    rows = con.execute("SELECT kind, item_type, method, params FROM embedding_derived WHERE model = ? "
                       "ORDER BY kind, item_type", [model]).fetchall()
    return [(k, t, m, json.loads(p)) for k, t, m, p in rows]
