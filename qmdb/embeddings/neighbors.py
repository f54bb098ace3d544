"""The `neighbors` table: every item's k nearest items of the same type and model, from the index.

Materialized so that neighbour votes and consistency checks are plain SQL, e.g.
the share of an image's 10 neighbours that carry another class::

    SELECT n.item_id, avg((ln.class <> l.class)::INT) AS disagreement
    FROM neighbors n JOIN labels l ON l.image_id = n.item_id JOIN labels ln ON ln.image_id = n.neighbor_id
    WHERE n.item_type = 'image' GROUP BY 1
    ORDER BY 2 DESC

At a million items this is a long job, so it runs in chunks of `CHUNK` items (in
item-id order) and resumes: each chunk's rows and its row in `neighbor_chunks`
(model, item type, the run's `state`: k and the index's row count and id hash,
chunk number) are written in one transaction, so an interrupted run continues at
the first chunk not recorded and never writes a row twice. A run whose state
differs from the recorded one (other rows, other k, or `force`) first removes the
model's neighbours and chunk records, in one transaction. Memory holds one chunk
of queries and results besides the memory-mapped index.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from ..transaction import transaction
from . import index as vector_index

CHUNK = 8192  # items searched and written per transaction

CHUNKS_TABLE = """CREATE TABLE IF NOT EXISTS neighbor_chunks (
    item_type VARCHAR NOT NULL, model VARCHAR NOT NULL, state VARCHAR NOT NULL, chunk INTEGER NOT NULL,
    items INTEGER NOT NULL, written_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (item_type, model, chunk))"""


def _chunk_rows(index: vector_index.VectorIndex, ids: np.ndarray, k: int) -> pa.Table:
    rows, _ = index.rows(ids)
    keys, dist = vector_index.search(index, np.asarray(index.vectors[rows], np.float32), k, exclude=ids,
                                     expansion=vector_index.neighbor_expansion(len(index)))
    valid = keys >= 0
    return pa.table({
        "item_id": pa.array(np.broadcast_to(ids[:, None], keys.shape)[valid]),
        "neighbor_id": pa.array(keys[valid]),
        "rank": pa.array(np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), keys.shape)[valid]),
        "distance": pa.array(dist[valid].astype(np.float64)),
    })


def materialize(con: duckdb.DuckDBPyConnection, model: str, item_type: str = "image", k: int = 10,
                *, force: bool = False, chunk: int = CHUNK,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Fill the model's `item_type` rows of `neighbors` with each item's k nearest (rank 1 =
    nearest, itself excluded), chunk by chunk, resuming an interrupted run; returns the rows
    written by this call, 0 when the table was already up to date. `progress(done, total)` is
    called after each chunk."""
    index = vector_index.ensure(con, model, item_type)
    state = vector_index.table_state(con, model, item_type, vectors=False)
    run = f"k={k};count={state.count};ids={state.ids};chunk={chunk}"
    con.execute(CHUNKS_TABLE)
    recorded = con.execute("SELECT DISTINCT state FROM neighbor_chunks WHERE model = ? AND item_type = ?",
                           [model, item_type]).fetchall()
    if force or [r[0] for r in recorded] != [run]:
        with transaction(con):
            con.execute("DELETE FROM neighbors WHERE model = ? AND item_type = ?", [model, item_type])
            con.execute("DELETE FROM neighbor_chunks WHERE model = ? AND item_type = ?", [model, item_type])
    done = {r[0] for r in con.execute("SELECT chunk FROM neighbor_chunks WHERE model = ? AND item_type = ?",
                                      [model, item_type]).fetchall()}
    ids = np.sort(index.keys)
    chunks = range((len(ids) + chunk - 1) // chunk)
    written = 0
    for c in chunks:
        if c in done:
            continue
        part = ids[c * chunk:(c + 1) * chunk]
        table = _chunk_rows(index, part, k)
        with transaction(con, qmdb_neighbors_batch=table):
            con.execute("INSERT INTO neighbors (item_type, model, item_id, neighbor_id, rank, distance) "
                        "SELECT ?, ?, item_id, neighbor_id, rank, distance FROM qmdb_neighbors_batch",
                        [item_type, model])
            con.execute("INSERT INTO neighbor_chunks (item_type, model, state, chunk, items) VALUES (?, ?, ?, ?, ?)",
                        [item_type, model, run, c, len(part)])
        written += table.num_rows
        if progress is not None:
            progress(c + 1, len(chunks))
    return written
