"""Classifier probabilities (CSV or Parquet): an image key column and one column per class.

The key is `path` (relative to the dataset root) or `image_id` (qmdb's id).
Every other column must be a class of the dataset and hold probabilities in
[0, 1]. Each row becomes one prediction: class = the most probable class,
score = its probability, probs = MAP(class → probability), no box.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError
from ..tables import no_nulls, number_column, read_table, text_column
from .store import PredictionBatch, dataset_exists

KEYS = ("path", "image_id")


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None) -> PredictionBatch:
    file = Path(source)
    table = read_table(file)
    dataset_exists(con, dataset, file)
    key = next((k for k in KEYS if k in table.column_names), None)
    if key is None:
        raise InputError(file, "path", f"a key column is required: one of {', '.join(KEYS)}")
    no_nulls(file, table, key)
    classes = [c for c in table.column_names if c not in KEYS]
    known = {c for (c,) in con.execute("SELECT class FROM classes WHERE dataset = ?", [dataset]).fetchall()}
    unknown = next((c for c in classes if c not in known), None)
    if unknown is not None or not classes:
        raise InputError(file, unknown or "columns", f"not a class of dataset '{dataset}' (classes: "
                         f"{', '.join(sorted(known))})" if unknown else "no class columns")
    probs = np.stack([number_column(file, table, c) for c in classes], axis=1)
    bad = ~((probs >= 0) & (probs <= 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(file, f"rows[{i}].{classes[j]}", f"expected a probability in [0, 1], got {probs[i, j]:g}")
    keys = text_column(file, table, key)
    n, k = probs.shape
    best = probs.argmax(axis=1)
    names = pa.array(classes, pa.string())
    probs_map = pa.MapArray.from_arrays(pa.array(np.arange(0, n * k + 1, k), pa.int32()),
                                        names.take(pa.array(np.tile(np.arange(k), n))), pa.array(probs.ravel()))
    rows = pa.table({
        "key": keys, "class": names.take(pa.array(best)), "score": probs[np.arange(n), best],
        "probs": probs_map, "source_id": pa.array(["probs"] * n, pa.string()),
    })
    dup = pc.count_distinct(keys).as_py() != n
    if dup:
        seen = {}
        for i, value in enumerate(keys.to_pylist()):
            if value in seen:
                raise InputError(file, f"rows[{i}].{key}", f"{value} also has row {seen[value]}")
            seen[value] = i
    return PredictionBatch(model, dataset, "classification", str(file.resolve()), "probs", key, rows,
                           lambda i: (file, f"rows[{i}].{key}"))
