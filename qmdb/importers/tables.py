"""Reading CSV and Parquet tables (label tables, probabilities, metadata) with clear errors.

Rows are named `rows[i]` (0-based, the CSV header not counted) in errors.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from .files import read_text


def read_table(path: str | Path) -> pa.Table:
    """A .csv (UTF-8) or .parquet file as an Arrow table; at least one row."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pq.read_table(path)
        except FileNotFoundError:
            raise InputError(path, None, "no such file") from None
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(path, None, f"not a readable Parquet file: {str(error).splitlines()[0]}") from None
    else:
        text = read_text(path)
        if not text.strip():
            raise InputError(path, None, "empty file, expected a CSV header and rows")
        try:
            table = pacsv.read_csv(io.BytesIO(text.encode()))
        except pa.ArrowInvalid as error:
            raise InputError(path, None, f"not a readable CSV file: {str(error).splitlines()[0]}") from None
    if table.num_rows == 0:
        raise InputError(path, None, "the table has no rows")
    return table


def require(path: Path, table: pa.Table, *columns: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(path, missing[0], f"required column is missing (columns: {', '.join(table.column_names)})")


def no_nulls(path: Path, table: pa.Table, column: str) -> None:
    nulls = table[column].is_null().to_numpy(zero_copy_only=False)
    if nulls.any():
        raise InputError(path, f"rows[{int(np.argmax(nulls))}].{column}", "required value is missing")


def number_column(path: Path, table: pa.Table, column: str) -> np.ndarray:
    """A numeric column as float64 (NaN for nulls); a text value is named."""
    array = table[column]
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_null(array.type):
        return array.cast(pa.float64()).to_numpy(zero_copy_only=False)
    for i, value in enumerate(array.to_pylist()):
        try:
            float(value)
        except (TypeError, ValueError):
            if value is not None:
                raise InputError(path, f"rows[{i}].{column}", f"expected a number, got {value!r}") from None
    return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)


def text_column(path: Path, table: pa.Table, column: str) -> pa.Array:
    """A column as strings (numbers such as a class 3 become '3')."""
    return pc.cast(table[column].combine_chunks(), pa.string())


def ordinal(keys: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same key, in file order.

    >>> ordinal(np.array(["a", "b", "a", "a"])).tolist()
    [0, 0, 1, 2]
    """
    _, codes = np.unique(keys, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.arange(len(keys)) - group_start
    return out
