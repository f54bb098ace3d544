"""Classifier probabilities (CSV or Parquet): an image key column and one column per class.

The key is `path` (relative to the dataset root) or `image_id` (qmdb's id).
By default every other column must be a class of the dataset; `columns` maps
columns to classes otherwise (see `class_columns`). Probabilities lie in
[0, 1]. Each row becomes one prediction: class = the most probable class,
score = its probability, probs = MAP(class → probability), no box.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError
from ..files import read_json, read_text
from ..tables import no_nulls, number_column, read_table, text_column
from .store import PredictionBatch, dataset_exists

KEYS = ("path", "image_id")
MAPPING_SUFFIXES = (".json", ".csv", ".txt")


def _mapping_file(path: Path) -> list[str] | dict[str, str]:
    """A .json object {column: class} or list of classes, a .csv `column,class` table, or a text
    file of one class per line (like YOLO's classes.txt)."""
    if path.suffix.lower() == ".json":
        value = read_json(path, (dict, list), "an object {column: class} or a list of classes")
        bad = [v for v in (value.values() if isinstance(value, dict) else value) if not isinstance(v, (str, int))]
        if bad:
            raise InputError(path, None, f"expected class names, got {json.dumps(bad[0])}")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else [str(v) for v in value]
    if path.suffix.lower() == ".csv":
        table = read_table(path)
        if table.column_names[:2] != ["column", "class"]:
            raise InputError(path, None, f"expected the columns column,class (got {','.join(table.column_names)})")
        no_nulls(path, table, "column")
        no_nulls(path, table, "class")
        return dict(zip(text_column(path, table, "column").to_pylist(), text_column(path, table, "class").to_pylist()))
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


def class_columns(file: Path, names: list[str], columns, classes: dict[str, str],
                  dataset: str = "") -> tuple[list[str], list[str]]:
    """(probability columns, their classes) among the table's non-key column `names`.

    `columns` is None (every column is named by its class), a prefix (`"p"`: `p0 … p9`; the rest
    of the name is a class, or a class id of the dataset; other columns are ignored), a list of
    classes in column order (or one string of them separated by commas), a {column: class} mapping
    (other columns are ignored), or the path of a mapping file (`_mapping_file`). `classes` is
    {class or class id as text: class} of the dataset.

    >>> classes = {"zero": "zero", "one": "one", "0": "zero", "1": "one"}
    >>> class_columns(Path("p.csv"), ["p0", "p1", "note"], "p", classes)
    (['p0', 'p1'], ['zero', 'one'])
    >>> class_columns(Path("p.csv"), ["a", "b"], "one,zero", classes)
    (['a', 'b'], ['one', 'zero'])
    >>> class_columns(Path("p.csv"), ["a", "b"], {"b": "one"}, classes)
    (['b'], ['one'])
    """
    if isinstance(columns, Path) or (isinstance(columns, str) and (
            Path(columns).is_file() or columns.lower().endswith(MAPPING_SUFFIXES))):
        file, columns = Path(columns), _mapping_file(Path(columns))  # a missing one: "no such file"
    if isinstance(columns, str) and "," in columns:
        columns = [c.strip() for c in columns.split(",")]
    if columns is None:
        picked = list(names)
        wanted = picked
    elif isinstance(columns, str):
        picked = [c for c in names if c.startswith(columns) and len(c) > len(columns)]
        if not picked:
            raise InputError(file, "columns", f"no column starts with '{columns}' (columns: {', '.join(names)})")
        wanted = [c[len(columns):] for c in picked]
    elif isinstance(columns, dict):
        missing = next((c for c in columns if c not in names), None)
        if missing is not None:
            raise InputError(file, missing, f"the mapping names a column the table lacks (columns: {', '.join(names)})")
        picked, wanted = [c for c in names if c in columns], [str(columns[c]) for c in names if c in columns]
    else:
        wanted = [str(c) for c in columns]
        if len(wanted) != len(names):
            raise InputError(file, "columns", f"{len(wanted)} classes given for {len(names)} probability columns "
                             f"({', '.join(names)})")
        picked = list(names)
    if not picked:
        raise InputError(file, "columns", "no class columns")
    unknown = next((i for i, w in enumerate(wanted) if w not in classes), None)
    if unknown is not None:
        shown = picked[unknown] if picked[unknown] == wanted[unknown] else f"{picked[unknown]} ({wanted[unknown]})"
        raise InputError(file, shown, f"not a class of dataset '{dataset}' (classes: "
                         f"{', '.join(sorted(set(classes.values())))}); map columns to classes with `columns`")
    mapped = [classes[w] for w in wanted]
    twice = next((i for i, c in enumerate(mapped) if mapped.index(c) != i), None)
    if twice is not None:
        raise InputError(file, picked[twice], f"class '{mapped[twice]}' is also column {picked[mapped.index(mapped[twice])]}")
    return picked, mapped


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None, columns=None) -> PredictionBatch:
    file = Path(source)
    table = read_table(file)
    dataset_exists(con, dataset, file)
    key = next((k for k in KEYS if k in table.column_names), None)
    if key is None:
        raise InputError(file, "path", f"a key column is required: one of {', '.join(KEYS)}")
    no_nulls(file, table, key)
    rows = con.execute("SELECT class, CAST(class_id AS VARCHAR) FROM classes WHERE dataset = ?", [dataset]).fetchall()
    known = {cid: name for name, cid in rows} | {name: name for name, _ in rows}  # a class name wins over an id
    if columns is None:  # every column a class name, as before (ids only through `columns`)
        known = {name: name for name, _ in rows}
    picked, classes = class_columns(file, [c for c in table.column_names if c not in KEYS], columns, known, dataset)
    probs = np.stack([number_column(file, table, c) for c in picked], axis=1)
    bad = ~((probs >= 0) & (probs <= 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(file, f"rows[{i}].{picked[j]}", f"expected a probability in [0, 1], got {probs[i, j]:g}")
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
