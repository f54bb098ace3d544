"""Duplicate groups: connected components of the neighbour graph within a distance, not only pairs,
with the one item of each group to keep — the `duplicate_groups` table
(`model, item_type, item_id, group_id, group_size, keep, max_distance`).

Each item's nearest neighbours come from the model's vector index (up to `K` of them); an edge joins two
items at most `max_distance` apart (cosine), and every connected component of two or more items is a
group, so A≈B and B≈C put A, B and C together even when A and C are further apart. Kept is the image
with the most pixels, then the largest file, then the lowest id (labels: the largest box; predictions:
the highest score); `group_id` is the kept item's id. Only items in a group have rows.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from . import derived
from . import index as vector_index

K = 16
QUERY_BATCH = 8192
# what to keep in a group, best first, per item type (declared, not branched)
KEEP_ORDER = {
    "image": ("images", "image_id", "o.width * o.height DESC NULLS LAST, o.file_size DESC NULLS LAST"),
    "label": ("labels", "label_id", "o.w * o.h DESC NULLS LAST"),
    "prediction": ("predictions", "prediction_id", "o.score DESC NULLS LAST"),
}


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The component of each of n nodes joined by edges (a[i], b[i]): the smallest node in it.

    Vectorized min-label propagation with pointer jumping (no loop over edges or nodes).

    >>> components(6, np.array([0, 1, 4]), np.array([1, 2, 5])).tolist()
    [0, 0, 0, 3, 4, 4]
    """
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]  # pointer jumping: follow each node's label to its label's label
        if np.array_equal(new, label):
            return label
        label = new


def edges(index, ids: np.ndarray, vectors: np.ndarray, max_distance: float, k: int = K
          ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (a, b) of the pairs within `max_distance` among each item's k nearest."""
    sources, targets = [], []
    order = np.argsort(ids)
    for start in range(0, len(ids), QUERY_BATCH):
        chunk = np.arange(start, min(start + QUERY_BATCH, len(ids)))
        keys, dist = vector_index.search(index, vectors[chunk], k, exclude=ids[chunk])
        close = (keys >= 0) & (dist <= max_distance)
        sources.append(np.broadcast_to(chunk[:, None], keys.shape)[close])
        targets.append(keys[close])
    a = np.concatenate(sources) if sources else np.zeros(0, np.int64)
    found = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    b = order[np.searchsorted(ids, found, sorter=order)]
    return a, b


def materialize(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
                max_distance: float = 0.02, *, k: int = K, force: bool = False) -> int:
    """Replace a model's `item_type` rows of `duplicate_groups` with the groups within `max_distance`;
    returns the rows written (0 when up to date)."""
    model = derived.resolve_model(con, item_type, model)
    params = {"max_distance": float(max_distance), "k": int(k)}
    if not force and derived.fresh(con, "duplicates", model, item_type, "components", params):
        return 0
    _, ids, vectors = derived.load(con, model, item_type)
    index = vector_index.ensure(con, model, item_type)
    a, b = edges(index, ids, vectors, max_distance, k)
    label = components(len(ids), a, b)
    size = np.bincount(label, minlength=len(ids))[label]
    grouped = size > 1
    table = pa.table({"item_id": ids[grouped], "component": label[grouped], "group_size": size[grouped]})
    source, key, order = KEEP_ORDER[item_type]
    select = (f"SELECT item_id, first(item_id) OVER w AS group_id, group_size::INTEGER, "
              f"row_number() OVER w = 1 AS keep, {float(max_distance)} AS max_distance "
              f"FROM qmdb_derived_batch d LEFT JOIN {source} o ON o.{key} = d.item_id "
              f"WINDOW w AS (PARTITION BY component ORDER BY {order}, d.item_id)")
    return derived.replace(con, "duplicates", model, item_type, "components", params, table, select)
