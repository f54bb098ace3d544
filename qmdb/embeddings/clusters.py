"""Semantic clusters: k-means or HDBSCAN over a model's vectors, the `clusters` table (`model, item_type,
item_id, cluster, method, distance`), joinable on the item id like any slice.

k-means is scikit-learn's (`KMeans`, k-means++ initialisation, Lloyd's iterations, a fixed seed) on the
unit-length vectors, so clusters follow cosine similarity; `distance` is the cosine distance from the
item to its cluster's centroid (re-normalized). The default k is √(n/2), between 2 and 100.

HDBSCAN is scikit-learn's (`sklearn.cluster.HDBSCAN`, Euclidean on the unit-length vectors, which
orders pairs as cosine distance does): it finds the number of clusters itself and leaves items in no
dense region as noise, cluster -1 (scikit-learn's label); `min_cluster_size` (default 5) and
`min_samples` (default: `min_cluster_size`) are its parameters. A noise item's `distance` is to the
nearest cluster's centroid (to the mean of all vectors when everything is noise). Both need the `map`
extra (scikit-learn). `cluster_summary` and `cluster_metrics` describe the clusters.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import MissingExtra, QmdbError
from . import derived
from . import index as vector_index
from .base import normalize

CHUNK_ROWS = 65_536  # rows whose centroids are gathered at a time (not an (n, dim) copy)
MAX_K = 1_000
METHODS = ("kmeans", "hdbscan")
NOISE = -1


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
    similarity = np.concatenate([np.einsum("ij,ij->i", vectors[s:s + CHUNK_ROWS], centroids[labels[s:s + CHUNK_ROWS]])
                                 for s in range(0, len(vectors), CHUNK_ROWS)])
    return labels, np.clip(1.0 - similarity, 0.0, 2.0).astype(np.float64)


def hdbscan(vectors: np.ndarray, min_cluster_size: int = 5, min_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each row, -1 for noise; cosine distance to its cluster's centroid, or for noise to
    the nearest one) of unit-length `vectors`, by scikit-learn's HDBSCAN."""
    try:
        from sklearn.cluster import HDBSCAN
    except ImportError as error:
        raise MissingExtra("clusters (HDBSCAN)", "map") from error
    if not 2 <= min_cluster_size <= len(vectors):
        raise QmdbError(f"clusters: min_cluster_size must be between 2 and {len(vectors)} (the number of vectors), "
                        f"not {min_cluster_size}")
    if min_samples is not None and not 1 <= min_samples <= len(vectors):
        raise QmdbError(f"clusters: min_samples must be between 1 and {len(vectors)}, not {min_samples}")
    labels = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit(vectors).labels_.astype(np.int32)
    found = labels >= 0
    k = int(labels.max()) + 1
    if k == 0:
        centroids = normalize(vectors.mean(axis=0, keepdims=True))
        distance = 1.0 - vectors @ centroids[0]
    else:
        sums = np.zeros((k, vectors.shape[1]))
        np.add.at(sums, labels[found], vectors[found])
        centroids = normalize(sums)
        similarity = vectors @ centroids.T
        distance = 1.0 - np.where(found, similarity[np.arange(len(labels)), np.maximum(labels, 0)], similarity.max(axis=1))
    return labels, np.clip(distance, 0.0, 2.0).astype(np.float64)


def materialize(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
                k: int | None = None, *, seed: int = 0, force: bool = False, method: str = "kmeans",
                min_cluster_size: int = 5, min_samples: int | None = None) -> int:
    """Cluster a model's `item_type` vectors — k-means into `k` clusters (default `default_k`), or
    HDBSCAN (`method="hdbscan"`, with `min_cluster_size` and `min_samples`) — and replace its rows of
    `clusters`; returns the rows written, 0 when the table already holds this clustering of these
    vectors."""
    if method not in METHODS:
        raise QmdbError(f"clusters: method must be one of {', '.join(METHODS)}, not '{method}'")
    model = derived.resolve_model(con, item_type, model)
    n = vector_index.table_state(con, model, item_type, vectors=False).count
    if method == "kmeans":
        params = {"k": int(k or default_k(n)), "seed": seed}
    else:
        if k is not None:
            raise QmdbError("clusters: HDBSCAN finds the number of clusters itself; give min_cluster_size, not k")
        params = {"min_cluster_size": int(min_cluster_size), "min_samples": min_samples}
    if not force and derived.fresh(con, "clusters", model, item_type, method, params):
        return 0
    ids, vectors, state = derived.snapshot(con, model, item_type)
    labels, distance = kmeans(vectors, params["k"], seed) if method == "kmeans" else hdbscan(vectors, **params)
    table = pa.table({"item_id": ids, "cluster": labels, "method": pa.repeat(method, len(ids)), "distance": distance})
    return derived.replace(con, "clusters", model, item_type, method, params, table, state=state)
