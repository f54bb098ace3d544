"""The `neighbors` table: every item's k nearest items of the same type and model, from the index.

Materialized so that neighbour votes and consistency checks are plain SQL, e.g.
the share of an image's 10 neighbours that carry another class::

    SELECT n.item_id, avg((ln.class <> l.class)::INT) AS disagreement
    FROM neighbors n JOIN labels l ON l.image_id = n.item_id JOIN labels ln ON ln.image_id = n.neighbor_id
    WHERE n.item_type = 'image' GROUP BY 1
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..transaction import transaction
from . import index as vector_index

QUERY_BATCH = 8192


def materialize(con: duckdb.DuckDBPyConnection, model: str, item_type: str = "image", k: int = 10,
                *, force: bool = False) -> int:
    """Replace the model's `item_type` rows of `neighbors` with each item's k nearest (rank 1 =
    nearest, itself excluded); returns the rows written, 0 when the table was already up to date."""
    index = vector_index.ensure(con, model, item_type)
    ids, vectors = vector_index.load_vectors(con, model, item_type)
    if not force:
        have = con.execute(
            "SELECT count(DISTINCT item_id), max(rank), count(*) FILTER (WHERE n.item_id NOT IN "
            "(SELECT item_id FROM embeddings e WHERE e.model = n.model AND e.item_type = n.item_type)) "
            "FROM neighbors n WHERE model = ? AND item_type = ?", [model, item_type]).fetchall()[0]
        if have == (len(ids), min(k, len(ids) - 1), 0) and len(ids) == len(index):
            return 0
    sources, targets, ranks, distances = [], [], [], []
    for start in range(0, len(ids), QUERY_BATCH):
        chunk = ids[start:start + QUERY_BATCH]
        keys, dist = vector_index.search(index, vectors[start:start + QUERY_BATCH], k, exclude=chunk)
        valid = keys >= 0
        sources.append(np.broadcast_to(chunk[:, None], keys.shape)[valid])
        targets.append(keys[valid])
        ranks.append(np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), keys.shape)[valid])
        distances.append(dist[valid].astype(np.float64))
    table = pa.table({
        "item_id": pa.array(np.concatenate(sources) if sources else np.zeros(0, np.int64)),
        "neighbor_id": pa.array(np.concatenate(targets) if targets else np.zeros(0, np.int64)),
        "rank": pa.array(np.concatenate(ranks) if ranks else np.zeros(0, np.int32)),
        "distance": pa.array(np.concatenate(distances) if distances else np.zeros(0)),
    })
    with transaction(con, qmdb_neighbors_batch=table):
        con.execute("DELETE FROM neighbors WHERE model = ? AND item_type = ?", [model, item_type])
        con.execute("INSERT INTO neighbors (item_type, model, item_id, neighbor_id, rank, distance) "
                    "SELECT ?, ?, item_id, neighbor_id, rank, distance FROM qmdb_neighbors_batch",
                    [item_type, model])
    return table.num_rows
