"""The quick path of a parsed block: Arrow columns (from `pyarrow.json`) checked as whole columns.

Each function returns the column as `fields` would make it from the records, or None when
the column is not plainly valid (a wrong type, a null where one is required, a value out
of range). None is no error: the caller then reads the block's records with `json` and
`fields`, which give the exact error naming the record, so a bad file reads exactly as before
and only a good block takes this path.

>>> import pyarrow as pa
>>> numbers(pa.array([1.0, None])).tolist(), ints(pa.array([1.0, 2.5])), strings(pa.array([1]))
([1.0, nan], None, None)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCALAR_EXTRAS = (pa.string(), pa.int64(), pa.bool_(), pa.null())  # types whose values read back as parsed


def numbers(column: pa.Array | None, n: int = 0) -> np.ndarray | None:
    """A float64 column (NaN for null or absent)."""
    if column is None:
        return np.full(n, np.nan)
    if column.type not in (pa.float64(), pa.null()):
        return None
    return column.cast(pa.float64()).to_numpy(zero_copy_only=False)


def ints(column: pa.Array | None) -> np.ndarray | None:
    """Required integers (ids), as `fields.ints` makes them (through float64)."""
    floats = numbers(column) if column is not None else None
    if floats is None or np.isnan(floats).any() or (floats != np.round(floats)).any():
        return None
    return floats.astype(np.int64)


def strings(column: pa.Array | None, n: int = 0, *, required: bool = False) -> pa.Array | None:
    if column is None:
        return None if required else pa.nulls(n, pa.string())
    if column.type not in (pa.string(), pa.null()) or (required and column.null_count):
        return None
    return column.cast(pa.string())


def boxes(column: pa.Array | None, n: int = 0) -> np.ndarray | None:
    """(n, 4) [x, y, w, h], NaN rows where null; None unless every box is 4 finite numbers, w, h >= 0."""
    out = np.full((n if column is None else len(column), 4), np.nan)
    if column is None or column.type == pa.null():
        return out
    if column.type != pa.list_(pa.float64()):
        return None
    lengths = pc.fill_null(pc.list_value_length(column), 4).to_numpy(zero_copy_only=False)
    if (lengths != 4).any():
        return None
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    out[valid] = pc.list_flatten(column).to_numpy(zero_copy_only=False).reshape(-1, 4)
    if (valid & (~np.isfinite(out).all(axis=1) | (out[:, 2] < 0) | (out[:, 3] < 0))).any():
        return None
    return out


def absent(column: pa.Array | None) -> bool:
    """No value at all (the field is missing or null in every record)."""
    return column is None or column.null_count == len(column)


def extras(table: pa.Table, skip: set[str] | frozenset[str]) -> dict[str, list] | None:
    """{field: values} of the fields outside `skip`, when each is a scalar column that reads back
    as `json` parsed it (strings, integers, booleans); else None."""
    out = {}
    for name in table.column_names:
        if name in skip:
            continue
        column = table[name]
        if column.type not in SCALAR_EXTRAS:
            return None
        out[name] = column.to_pylist()
    return out
