"""More like these: rank every item by a linear probe trained on a few examples (Scale Nucleus' autotag),
or by the mean of the examples' vectors when only positives are given.

`more_like(positive_ids, negative_ids := [], k := 100, model_name := NULL, item_type := 'image')` returns
`item_id, score, rank`, the examples themselves left out. With negatives, the probe is an L2-regularized
logistic regression (`probe`, Newton's method in numpy; penalty ½‖w‖², as scikit-learn's C = 1) of the
positives against the negatives plus a seeded random sample of other items (`BACKGROUND` per positive,
as unlabeled negatives: a probe of 1s against 7s alone ranks every un-7-like digit high), and `score`
is its probability; with positives only, `score` is the cosine similarity to the normalized mean.
Either way the ranking is by w·x over unit-length vectors, i.e. by cosine similarity to the direction w,
so it is one nearest-neighbour search in the model's usearch index, not a scan of every vector.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from . import index as vector_index
from .base import normalize
from .models import resolve_model

MAX_K = 10_000
BACKGROUND = 10  # background items sampled per positive when negatives are given
RESULT = "STRUCT(id BIGINT, score DOUBLE, rank INTEGER)[]"
_RESULT_ARROW = pa.list_(pa.struct([("id", pa.int64()), ("score", pa.float64()), ("rank", pa.int32())]))
MACRO = ("positive_ids, negative_ids := [], k := 100, model_name := NULL, item_type := 'image'",
         "SELECT r.id AS item_id, r.score, r.rank FROM (SELECT unnest(qmdb_more_like(item_type, "
         "CAST(positive_ids AS BIGINT[]), CAST(negative_ids AS BIGINT[]), k, model_name)) AS r)")


def probe(x: np.ndarray, y: np.ndarray, penalty: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """(w, b) of logistic regression minimizing ½·penalty·‖w‖² + Σ log-loss (the intercept unpenalized).

    >>> w, b = probe(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), np.array([1, 1, 0, 0]))
    >>> bool(w[0] > 0 > w[1])
    True
    """
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))]).astype(np.float64)
    theta = np.zeros(d + 1)
    ridge = np.full(d + 1, penalty)
    ridge[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) + ridge * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def rank(index, positives: np.ndarray, negatives: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of the k best items that are not examples, best first."""
    examples = np.concatenate([positives, negatives]).astype(np.int64)
    vectors, found = vector_index.vectors_of(index, examples)
    if not found.all():
        missing = ", ".join(str(i) for i in examples[~found][:10])
        raise QmdbError(f"more_like: no vector for item id(s) {missing}")
    pos, neg = vectors[:len(positives)], vectors[len(positives):]
    if len(neg):
        keys = np.asarray(index.keys, np.int64)
        others = keys[~np.isin(keys, examples)]
        sample = np.random.default_rng(0).choice(others, min(len(others), BACKGROUND * len(pos)), replace=False)
        background, _ = vector_index.vectors_of(index, np.sort(sample))
        w, b = probe(np.vstack([vectors, background]),
                     np.r_[np.ones(len(pos)), np.zeros(len(neg) + len(background))])
    else:
        w, b = pos.mean(axis=0).astype(np.float64), None
    norm = float(np.linalg.norm(w))
    if norm == 0:
        raise QmdbError("more_like: the examples give no direction to rank by")
    direction = normalize((w / norm)[None, :])
    keys, distances = vector_index.search(index, direction, k + len(np.unique(examples)))
    keys, distances = keys[0], distances[0].astype(np.float64)
    keep = (keys >= 0) & ~np.isin(keys, examples)
    keys, cosine = keys[keep][:k], 1.0 - distances[keep][:k]
    scores = cosine if b is None else 1.0 / (1.0 + np.exp(-(norm * cosine + b)))
    return keys, scores


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Add `qmdb_more_like` (the UDF the `more_like` macro unnests) to a connection."""
    from ..functions import define

    def more_like(item_types: pa.Array, positives: pa.Array, negatives: pa.Array, ks: pa.Array,
                  models: pa.Array) -> pa.Array:
        cur = con.cursor()
        try:
            out = []
            for item_type, pos, neg, k, model in zip(item_types.to_pylist(), positives.to_pylist(),
                                                    negatives.to_pylist(), ks.to_pylist(), models.to_pylist()):
                k = 100 if k is None else int(k)
                if not 1 <= k <= MAX_K:
                    raise ValueError(f"more_like: k must be between 1 and {MAX_K}, not {k}")
                pos = np.asarray([i for i in (pos or []) if i is not None], np.int64)
                neg = np.asarray([i for i in (neg or []) if i is not None], np.int64)
                if not len(pos):
                    raise ValueError("more_like: give at least one positive id")
                index = vector_index.ensure(cur, resolve_model(cur, item_type or "image", model), item_type or "image")
                ids, scores = rank(index, pos, neg, k)
                out.append([{"id": int(i), "score": float(s), "rank": r + 1}
                            for r, (i, s) in enumerate(zip(ids, scores))])
            return pa.array(out, _RESULT_ARROW)
        finally:
            cur.close()

    define(con, "qmdb_more_like", more_like, ["VARCHAR", "BIGINT[]", "BIGINT[]", "INTEGER", "VARCHAR"], RESULT,
           type="arrow", null_handling="special", side_effects=True)
