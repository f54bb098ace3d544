"""Arrow arrays built from numpy buffers, for the rows the metric runner writes.

`pa.array` imports pandas on its first call in a process (about 0.3 s of CPU, a tenth of a
200-image metric run on two cores); arrays made from their buffers do not, and skip pyarrow's
per-value type inference too.

>>> column([1.5, None, 2.0], "DOUBLE").to_pylist()
[1.5, None, 2.0]
>>> column(np.ma.masked_array([True, False], mask=[False, True]), "BOOLEAN").to_pylist()
[True, None]
>>> strings(["a", None, "bc"]).to_pylist()
['a', None, 'bc']
>>> dictionary(np.array([1, 0, 1], np.int8), ["TP", "FP"]).to_pylist()
['FP', 'TP', 'FP']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

# SQL type → (Arrow type, numpy dtype of its values buffer; None: bit-packed booleans, or strings)
TYPES = {
    "DOUBLE": (pa.float64(), np.float64), "INTEGER": (pa.int32(), np.int32), "BIGINT": (pa.int64(), np.int64),
    "UBIGINT": (pa.uint64(), np.uint64), "BOOLEAN": (pa.bool_(), None), "VARCHAR": (pa.string(), None),
}


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    """The validity bitmap of a boolean mask of valid entries (None when all are), and the null count."""
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(len(valid) - np.count_nonzero(valid))


def numbers(values: np.ndarray, arrow_type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy array as an Arrow array of the same fixed width (`valid`: which entries are not NULL)."""
    values = np.ascontiguousarray(values)
    bitmap, nulls = _validity(valid)
    return pa.Array.from_buffers(arrow_type, len(values), [bitmap, pa.py_buffer(values)], null_count=nulls)


def booleans(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A boolean numpy array as an Arrow BOOLEAN array (bit-packed)."""
    values = np.asarray(values, bool)
    bitmap, nulls = _validity(valid)
    data = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [bitmap, data], null_count=nulls)


def strings(values: Sequence[str | None]) -> pa.Array:
    """Python strings (None: NULL) as an Arrow string array, from its offsets and UTF-8 data."""
    data = [b"" if v is None else str(v).encode() for v in values]
    offsets = np.zeros(len(data) + 1, np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    valid = np.fromiter((v is not None for v in values), bool, len(data))
    bitmap, nulls = _validity(valid)
    return pa.Array.from_buffers(pa.string(), len(data), [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))],
                                 null_count=nulls)


def dictionary(codes: np.ndarray, names: Sequence[str]) -> pa.DictionaryArray:
    """Strings as integer codes into `names` (DuckDB reads the column as VARCHAR)."""
    codes = np.ascontiguousarray(codes)
    return pa.DictionaryArray.from_arrays(numbers(codes, pa.from_numpy_dtype(codes.dtype)), strings(names))


def column(values, sql_type: str) -> pa.Array:
    """One metric's values (a list with None for missing, or a masked array) as an Arrow array of its SQL type."""
    arrow_type, dtype = TYPES[sql_type]
    if isinstance(values, np.ma.MaskedArray):
        valid = ~np.ma.getmaskarray(values)
        data = np.ma.getdata(values)
        if sql_type == "VARCHAR":
            return strings([str(v) if ok else None for v, ok in zip(data.tolist(), valid)])
        data = np.where(valid, data, 0) if not valid.all() else data
    else:
        valid = np.fromiter((v is not None for v in values), bool, len(values))
        if sql_type == "VARCHAR":
            return strings([None if v is None else str(v) for v in values])
        data = values if valid.all() else [0 if v is None else v for v in values]
    if sql_type == "BOOLEAN":
        return booleans(np.asarray(data, bool), valid)
    return numbers(np.asarray(data, dtype), arrow_type, valid)


_NUMPY = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
          pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
          pa.float32(): np.float32, pa.float64(): np.float64}


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric or boolean Arrow column as numpy, read from its buffers (`to_numpy` imports pandas):
    NULL as NaN in a float column, as 0 / False otherwise.

    >>> to_numpy(pa.chunked_array([numbers(np.arange(3.0), pa.float64(), np.array([True, False, True]))])).tolist()
    [0.0, nan, 2.0]
    >>> to_numpy(booleans(np.array([True, False, True]))[1:]).tolist()
    [False, True]
    """
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 0:  # (combine_chunks of no chunk imports pandas)
            return np.zeros(0, bool if values.type == pa.bool_() else _NUMPY[values.type])
        values = values.combine_chunks() if values.num_chunks > 1 else values.chunk(0)
    n, start = len(values), values.offset
    bitmap, data = values.buffers()[:2]
    if values.type == pa.bool_():
        out = np.zeros(n, bool) if data is None else \
            np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little", count=start + n)[start:].astype(bool)
    else:
        dtype = _NUMPY[values.type]
        out = np.zeros(n, dtype) if data is None else np.frombuffer(data, dtype, count=n, offset=start * np.dtype(dtype).itemsize)
    if values.null_count:
        valid = np.unpackbits(np.frombuffer(bitmap, np.uint8), bitorder="little", count=start + n)[start:].astype(bool)
        out = np.where(valid, out, np.nan if out.dtype.kind == "f" else 0).astype(out.dtype)
    return out
