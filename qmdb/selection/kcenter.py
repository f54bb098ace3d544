"""Diversity: a coreset of N items by k-center greedy over their embeddings.

k-center greedy (Sener & Savarese, 2018) picks, again and again, the item
farthest from everything picked so far, so N picks cover the embedding space:
no region is left far from a picked item. Already-picked items (the images you
labelled last round) seed the distances, so a new round adds what they miss.

>>> import numpy as np
>>> points = np.array([[0, 0], [0.1, 0], [10, 0], [10, 0.1], [5, 5]], dtype=np.float32)
>>> k_center_greedy(points, 3).tolist()
[0, 3, 4]
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from ..errors import QmdbError


def k_center_greedy(vectors: np.ndarray, n: int, *, selected: np.ndarray | None = None,
                    progress: bool = False) -> np.ndarray:
    """Indices (rows of `vectors`) of `n` new centers, in pick order; Euclidean distance.

    Without `selected` (a boolean mask of rows picked earlier) the first center
    is row 0 (deterministic); each next one is the row farthest from its nearest center.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    count = len(vectors)
    n = min(int(n), count - (int(selected.sum()) if selected is not None else 0))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    sq = np.einsum("ij,ij->i", vectors, vectors)

    def dist_to(i: int) -> np.ndarray:
        return np.maximum(sq - 2 * vectors @ vectors[i] + sq[i], 0)

    nearest = np.full(count, np.inf, dtype=np.float32)
    if selected is not None and selected.any():
        for block in np.array_split(np.flatnonzero(selected), max(1, int(selected.sum()) // 256)):
            d = sq[:, None] - 2 * vectors @ vectors[block].T + sq[block][None, :]
            nearest = np.minimum(nearest, np.maximum(d, 0).min(axis=1))
    picks = np.empty(n, dtype=np.int64)
    for step in tqdm(range(n), desc="coreset", disable=not progress, leave=False):
        pick = int(np.argmax(nearest)) if np.isfinite(nearest).any() else 0
        picks[step] = pick
        nearest = np.minimum(nearest, dist_to(pick))
        nearest[pick] = -1.0
    return picks


def _vectors(con: duckdb.DuckDBPyConnection, item_type: str, model: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    models = [m for (m,) in con.execute(
        "SELECT DISTINCT model FROM embeddings WHERE item_type = ? AND (? IS NULL OR model = ?) ORDER BY model",
        [item_type, model, model]).fetchall()]
    if not models:
        raise QmdbError(f"no {item_type} embeddings" + (f" for model '{model}'" if model else "")
                        + "; compute them first (qmdb embed)")
    if len(models) > 1:
        raise QmdbError(f"embeddings of several models ({', '.join(models)}); choose one with model=")
    table = con.sql("SELECT item_id, vector FROM embeddings WHERE item_type = ? AND model = ? ORDER BY item_id",
                    params=[item_type, models[0]]).to_arrow_table()
    vectors = table.column("vector").combine_chunks()
    dim = len(vectors[0]) if len(vectors) else 0
    flat = pa.compute.list_flatten(vectors).to_numpy(zero_copy_only=False).astype(np.float32)
    return table.column("item_id").to_numpy(), flat.reshape(len(vectors), dim), models[0]


def coreset(con: duckdb.DuckDBPyConnection, n: int, *, model: str | None = None,
            candidates: Sequence[int] | None = None, selected: Sequence[int] | None = None,
            item_type: str = "image", progress: bool = True) -> list[int]:
    """Ids of `n` diverse items (k-center greedy over their embeddings), in pick order.

    Args:
        n: how many to pick.
        model: embedding model (needed when several are stored).
        candidates: ids to choose from (a filter: a split, a query's result); None: all embedded.
        selected: ids picked earlier (already labelled); they seed the distances and are never returned.
        item_type: ``image`` or ``label``.

    Also a SQL function: ``SELECT unnest(coreset(100)) AS image_id`` or the view ``select_coreset``.
    """
    ids, vectors, _ = _vectors(con, item_type, model)
    keep = np.ones(len(ids), dtype=bool)
    if candidates is not None:
        keep = np.isin(ids, np.asarray(list(candidates), dtype=np.int64))
    seed = np.isin(ids, np.asarray(list(selected or []), dtype=np.int64))
    rows = keep | seed
    picks = k_center_greedy(vectors[rows], n, selected=seed[rows], progress=progress)
    return ids[rows][picks].tolist()
