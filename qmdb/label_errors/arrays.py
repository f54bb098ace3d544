"""Loading a classifier's results held in arrays (given labels, out-of-fold probabilities) into a project.

For notebooks and benchmarks that already have numpy arrays: one call writes
`datasets`, `images`, `classes`, `labels` (image-level), `models`,
`predictions` (class = argmax, score = its probability, probs = MAP) and,
when the true classes are known, `label_truth` — the same rows the importers
write, in one transaction, with no Python loop over rows.

`label_truth` is not part of a project's schema: only data whose true classes
are known (the demo, benchmarks with injected noise) has it, created by
`LABEL_TRUTH` on first write.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from ..transaction import transaction
from ..errors import InputError


LABEL_TRUTH = """
CREATE TABLE IF NOT EXISTS label_truth (
    label_id BIGINT PRIMARY KEY,
    true_class VARCHAR NOT NULL,
    noise VARCHAR,
    true_x DOUBLE, true_y DOUBLE, true_w DOUBLE, true_h DOUBLE   -- the true box (NULL for image-level labels)
)"""


def _check(paths: Sequence[str], given: np.ndarray, probs: np.ndarray, class_names: Sequence[str]) -> None:
    n, k = probs.shape
    if len(paths) != n or len(given) != n:
        raise InputError("arrays", "paths/given", f"expected {n} rows like probs, got {len(paths)} paths and {len(given)} labels")
    if len(class_names) != k:
        raise InputError("arrays", "class_names", f"expected {k} names (one per probs column), got {len(class_names)}")
    if n and (given.min() < 0 or given.max() >= k):
        raise InputError("arrays", "given", f"class indices must be in 0..{k - 1}")


def load_classification(con: duckdb.DuckDBPyConnection, *, dataset: str, model: str, root: str,
                        paths: Sequence[str], given: np.ndarray, probs: np.ndarray,
                        class_names: Sequence[str], truth: np.ndarray | None = None,
                        noise: str | None = None) -> int:
    """Write one image-level label and one classifier prediction per image; returns the number of images.

    `given` and `truth` are class indices into `class_names`; `probs` is (n, K).
    Labels whose `truth` differs from `given` get a `label_truth` row with `noise`.
    """
    given = np.asarray(given)
    probs = np.asarray(probs, dtype=np.float64)
    _check(paths, given, probs, class_names)
    names = np.asarray(class_names, dtype=object)
    n, k = probs.shape
    keys = pa.array(np.tile(names, n).tolist(), pa.string())
    prob_map = pa.MapArray.from_arrays(pa.array(np.arange(n + 1) * k, pa.int32()), keys, pa.array(probs.ravel()))
    top = probs.argmax(axis=1)
    rows = pa.table({
        "path": pa.array(list(paths), pa.string()),
        "given": pa.array(names[given].tolist(), pa.string()),
        "truth": pa.array(names[truth].tolist() if truth is not None else [None] * n, pa.string()),
        "predicted": pa.array(names[top].tolist(), pa.string()),
        "score": pa.array(probs[np.arange(n), top]),
        "probs": prob_map,
    })
    classes = pa.table({"class_id": pa.array(np.arange(k), pa.int32()), "class": pa.array(list(names), pa.string())})
    with transaction(con, _qmdb_rows=rows, _qmdb_classes=classes):
        con.execute("INSERT INTO datasets (name, root, format, task) VALUES (?, ?, 'arrays', 'classification')",
                    [dataset, root])
        con.execute("INSERT INTO classes (dataset, class_id, class) SELECT ?, class_id, class FROM _qmdb_classes",
                    [dataset])
        con.execute("INSERT INTO images (dataset, path, source_id) SELECT ?, path, path FROM _qmdb_rows", [dataset])
        con.execute("INSERT INTO models (model, task, dataset) VALUES (?, 'classification', ?)", [model, dataset])
        con.execute(
            "INSERT INTO labels (image_id, class, source_id) "
            "SELECT i.image_id, r.given, 'label' FROM _qmdb_rows r JOIN images i ON i.dataset = ? AND i.path = r.path",
            [dataset])
        con.execute(
            "INSERT INTO predictions (model, image_id, class, score, probs, source_id) "
            "SELECT ?, i.image_id, r.predicted, r.score, r.probs, 'probs' "
            "FROM _qmdb_rows r JOIN images i ON i.dataset = ? AND i.path = r.path",
            [model, dataset])
        con.execute(LABEL_TRUTH)
        con.execute(
            "INSERT INTO label_truth (label_id, true_class, noise) "
            "SELECT l.label_id, r.truth, ? FROM _qmdb_rows r "
            "JOIN images i ON i.dataset = ? AND i.path = r.path JOIN labels l USING (image_id) "
            "WHERE r.truth IS NOT NULL AND r.truth <> r.given",
            [noise, dataset])
    return n
