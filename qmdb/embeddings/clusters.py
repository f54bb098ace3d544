"""Semantic clusters: k-means over a model's vectors, the `clusters` table (`model, item_type, item_id,
cluster, method, distance`), joinable on the item id like any slice.

k-means is scikit-learn's (`KMeans`, k-means++ initialisation, Lloyd's iterations, a fixed seed) on the
unit-length vectors, so clusters follow cosine similarity; `distance` is the cosine distance from the
item to its cluster's centroid (re-normalized). The default k is √(n/2), between 2 and 100. Needs the
`map` extra (scikit-learn). `cluster_summary` and `cluster_metrics` describe the clusters.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import MissingExtra, QmdbError
from . import derived
from .base import normalize

MAX_K = 1_000


def default_k(n: int) -> int:
    """√(n/2) rounded, between 2 and 100 (a common rule of thumb for k-means' k).

    >>> default_k(1797), default_k(10), default_k(10**6)
    (30, 2, 100)
    """
    return int(min(100, max(2, round((n / 2) ** 0.5))))


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each row, cosine distance to its cluster's centroid) of unit-length `vectors`."""
    try:
        from sklearn.cluster import KMeans
    except ImportError as error:
        raise MissingExtra("clusters (k-means)", "map") from error
    if not 1 <= k <= min(MAX_K, len(vectors)):
        raise QmdbError(f"clusters: k must be between 1 and {min(MAX_K, len(vectors))} "
                        f"(the number of vectors), not {k}")
    fit = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(vectors)
    centroids = normalize(fit.cluster_centers_)
    labels = fit.labels_.astype(np.int32)
    distance = 1.0 - np.einsum("ij,ij->i", vectors, centroids[labels])
    return labels, np.clip(distance, 0.0, 2.0).astype(np.float64)


def materialize(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
                k: int | None = None, *, seed: int = 0, force: bool = False) -> int:
    """Cluster a model's `item_type` vectors into `k` clusters (default `default_k`) and replace its rows
    of `clusters`; returns the rows written, 0 when the table already holds this clustering of these
    vectors."""
    model = derived.resolve_model(con, item_type, model)
    n = derived.vectors_state(con, model, item_type)[0]
    params = {"k": int(k or default_k(n)), "seed": seed}
    if not force and derived.fresh(con, "clusters", model, item_type, "kmeans", params):
        return 0
    _, ids, vectors = derived.load(con, model, item_type)
    labels, distance = kmeans(vectors, params["k"], seed)
    table = pa.table({"item_id": ids, "cluster": labels, "method": ["kmeans"] * len(ids), "distance": distance})
    return derived.replace(con, "clusters", model, item_type, "kmeans", params, table)
