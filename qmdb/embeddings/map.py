"""The 2-D map of a model's vectors: the `embedding_map` table (`model, item_type, item_id, x, y, method`).

Two layouts: `umap` (umap-learn's UMAP, cosine metric, 15 neighbours, fixed seed; the `map` extra) and
`pca`, the fast fallback in numpy (the two leading eigenvectors of the vectors' covariance, signs fixed so
that the largest loading is positive, as scikit-learn's `svd_flip` does; the covariance is summed in float64
from float32 products of centred chunks, so memory stays one chunk above the vectors and the layout is
scikit-learn's `PCA(2)` within float32 rounding). `auto` is UMAP when umap-learn is installed, else PCA. The layout
is recorded with the state of the vectors it was computed from (`embedding_derived`): an unchanged
model is not recomputed, a changed one is, by `qmdb map` and after `qmdb embed`. Neither method is
incremental here: UMAP's `transform` of new points drifts from a fresh fit, so the layout is refitted.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import MissingExtra, QmdbError
from . import derived

METHODS = ("auto", "pca", "umap")
UMAP_NEIGHBORS = 15
CHUNK_ROWS = 65_536


def pca(vectors: np.ndarray) -> np.ndarray:
    """(n, 2) projection on the two principal axes.

    >>> pca(np.array([[0.0, 0.0], [2.0, 0.1], [4.0, 0.0]])).round(2).tolist()[0]
    [-2.0, -0.03]
    """
    x = np.asarray(vectors, dtype=np.float32)
    mean = x.sum(axis=0, dtype=np.float64) / len(x)
    centre = mean.astype(np.float32)
    covariance = np.zeros((x.shape[1], x.shape[1]))
    for start in range(0, len(x), CHUNK_ROWS):
        chunk = x[start:start + CHUNK_ROWS] - centre
        covariance += chunk.T @ chunk
    axes = np.linalg.eigh(covariance)[1][:, ::-1][:, :2]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    return (x @ axes.astype(np.float32)).astype(np.float64) - mean @ axes


def umap(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, 2) UMAP layout (cosine metric)."""
    try:
        import umap as umap_learn
    except ImportError as error:
        raise MissingExtra("the UMAP map", "map") from error
    reducer = umap_learn.UMAP(n_components=2, metric="cosine", n_neighbors=min(UMAP_NEIGHBORS, len(vectors) - 1),
                              random_state=seed)
    return reducer.fit_transform(vectors).astype(np.float64)


def resolve(method: str) -> str:
    """`pca` or `umap`: `auto` is UMAP when umap-learn imports."""
    if method not in METHODS:
        raise QmdbError(f"map: method must be one of {', '.join(METHODS)}, not '{method}'")
    if method != "auto":
        return method
    try:
        import umap  # noqa: F401
    except ImportError:
        return "pca"
    return "umap"


def compute(vectors: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """The (n, 2) layout of `vectors` by `method` (`pca` or `umap`)."""
    if len(vectors) < 3:
        raise QmdbError(f"map: {len(vectors)} vectors are too few for a layout (at least 3)")
    return pca(vectors) if method == "pca" else umap(vectors, seed)


def materialize(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
                method: str = "auto", *, seed: int = 0, force: bool = False) -> int:
    """Replace the model's `item_type` rows of `embedding_map` with a fresh layout; returns the rows
    written, 0 when the stored layout is of these vectors, by this method."""
    model = derived.resolve_model(con, item_type, model)
    method = resolve(method)
    params = {"seed": seed} if method == "umap" else {}
    if not force and derived.fresh(con, "map", model, item_type, method, params):
        return 0
    ids, vectors, state = derived.snapshot(con, model, item_type)
    table = layout(ids, compute(vectors, method, seed), method)
    return derived.replace(con, "map", model, item_type, method, params, table, state=state)


def layout(ids: np.ndarray, xy: np.ndarray, method: str) -> pa.Table:
    """The rows of `embedding_map` after model and item_type."""
    return pa.table({"item_id": ids, "x": xy[:, 0], "y": xy[:, 1], "method": pa.repeat(method, len(ids))})


def points(con: duckdb.DuckDBPyConnection, model: str | None = None, item_type: str = "image",
           method: str = "auto") -> tuple[str, pa.Table]:
    """(model, table of item_id, x, y, method): the stored layout when it is of the current vectors
    (any method when `method` is auto), else one computed now and not stored (a read-only connection)."""
    model = derived.resolve_model(con, item_type, model)
    for kind, stored_type, stored, params in derived.recorded(con, model):
        if (kind, stored_type) == ("map", item_type) and method in ("auto", stored) \
                and derived.fresh(con, "map", model, item_type, stored, params):
            return model, con.sql("SELECT item_id, x, y, method FROM embedding_map WHERE model = $model "
                                  "AND item_type = $item_type ORDER BY item_id",
                                  params={"model": model, "item_type": item_type}).to_arrow_table()
    method = resolve(method)
    ids, vectors, _ = derived.snapshot(con, model, item_type)
    return model, layout(ids, compute(vectors, method), method)
