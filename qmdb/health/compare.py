"""Comparing two sets of images (datasets, splits or any two WHEREs over `images`): metric drift and
label statistics from the `compare_metrics` and `compare_labels` views, and an embedding two-sample
test, the maximum mean discrepancy (MMD, Gretton et al. 2012) with a permutation p-value.

The MMD uses a Gaussian kernel whose width is the median pairwise distance, on at most `max_items`
vectors per side (a seeded sample); every permutation is one row of a weight matrix, so the whole
test is two matrix products. The witness function (mean kernel to A − mean kernel to B) names the
images most typical of each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from ..errors import InputError


def side_sql(con: duckdb.DuckDBPyConnection, side: str) -> str:
    """A side as a WHERE over `images i`: a dataset's name, else a split's, else the expression itself."""
    if con.execute("SELECT count(*) FROM datasets WHERE name = ?", [side]).fetchall()[0][0]:
        return f"i.dataset = '{side.replace(chr(39), chr(39) * 2)}'"
    if con.execute("SELECT count(*) FROM images WHERE split = ?", [side]).fetchall()[0][0]:
        return f"i.split = '{side.replace(chr(39), chr(39) * 2)}'"
    return side


def ids_sql(where: str) -> str:
    return f"(SELECT coalesce(list(i.image_id ORDER BY i.image_id), []) FROM images i WHERE {where})"


def image_ids(con: duckdb.DuckDBPyConnection, where: str, name: str) -> np.ndarray:
    try:
        rows = con.execute(f"SELECT i.image_id FROM images i WHERE {where} ORDER BY i.image_id").fetchall()
    except duckdb.Error as error:
        raise InputError(name, "side", f"not a dataset, a split or a WHERE over images i: "
                                       f"{str(error).strip().splitlines()[0]}") from None
    if not rows:
        raise InputError(name, "side", "selects no image")
    return np.array([r[0] for r in rows], np.int64)


@dataclass
class EmbeddingTest:
    model: str
    n_a: int
    n_b: int
    mmd2: float
    p_value: float
    permutations: int
    typical_a: list[int]
    typical_b: list[int]


def mmd_test(x: np.ndarray, y: np.ndarray, *, permutations: int = 200, seed: int = 0) -> tuple[float, float, np.ndarray]:
    """(biased MMD², permutation p-value, witness value of each pooled row) for samples x and y."""
    pooled = np.concatenate([x, y]).astype(np.float64)
    sq = (pooled * pooled).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * pooled @ pooled.T, 0)
    off = d2[np.triu_indices(len(pooled), 1)]
    width2 = np.median(off[off > 0]) if np.any(off > 0) else 1.0
    k = np.exp(-d2 / width2)
    n, m = len(x), len(y)
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.ones(n, bool), np.zeros(m, bool)])
    assignments = np.vstack([labels] + [rng.permutation(labels) for _ in range(permutations)])
    weights = np.where(assignments, 1.0 / n, -1.0 / m)
    stats = ((weights @ k) * weights).sum(1)
    p_value = (1 + np.count_nonzero(stats[1:] >= stats[0])) / (permutations + 1)
    witness = k[:, :n].mean(1) - k[:, n:].mean(1)
    return float(stats[0]), float(p_value), witness


def embedding_test(con: duckdb.DuckDBPyConnection, ids_a: np.ndarray, ids_b: np.ndarray, *, model: str | None = None,
                   max_items: int = 1000, permutations: int = 200, seed: int = 0, typical: int = 5
                   ) -> EmbeddingTest | None:
    """The MMD test on the image embeddings of one model (the one named, else the model with most
    vectors); None when either side has fewer than 2 embedded images."""
    models = con.execute("SELECT model FROM embeddings WHERE item_type = 'image' AND (? IS NULL OR model = ?) "
                         "GROUP BY model ORDER BY count(*) DESC, model LIMIT 1", [model, model]).fetchall()
    if not models:
        return None
    model = models[0][0]
    rng = np.random.default_rng(seed)
    sample_a = np.sort(rng.choice(ids_a, min(max_items, len(ids_a)), replace=False))
    sample_b = np.sort(rng.choice(ids_b, min(max_items, len(ids_b)), replace=False))

    def vectors(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        table = con.sql("SELECT item_id, vector FROM embeddings WHERE item_type = 'image' AND model = ? "
                        "AND list_contains(?, item_id) ORDER BY item_id", params=[model, ids.tolist()]).to_arrow_table()
        found = table.column("item_id").to_numpy()
        flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return found, flat.reshape(len(found), -1) if len(found) else flat.reshape(0, 0)

    found_a, x = vectors(sample_a)
    found_b, y = vectors(sample_b)
    if len(found_a) < 2 or len(found_b) < 2:
        return None
    mmd2, p_value, witness = mmd_test(x, y, permutations=permutations, seed=seed)
    wa, wb = witness[: len(found_a)], witness[len(found_a):]
    return EmbeddingTest(model, len(found_a), len(found_b), mmd2, p_value, permutations,
                         [int(i) for i in found_a[np.argsort(-wa)[:typical]]],
                         [int(i) for i in found_b[np.argsort(wb)[:typical]]])
