"""numpy columns as Arrow arrays over the same buffers.

`pa.array` on a numpy array (or a list) imports pandas (about 0.3 s, a large share of a
short `qmdb evaluate`); `pa.Array.from_buffers` takes the numpy memory as it is.

>>> import numpy as np
>>> column(np.array([1.5, 2.5]), valid=np.array([True, False])).to_pylist()
[1.5, None]
>>> dictionary(np.array([1, 0, 1], np.int8), ["TP", "FP"]).to_pylist()
['FP', 'TP', 'FP']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def _bits(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(np.ascontiguousarray(flags, dtype=bool), bitorder="little"))


def column(values: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    """A numeric or boolean column; NULL where `valid` is False."""
    validity = None if valid is None else _bits(valid)
    if values.dtype == bool:
        return pa.Array.from_buffers(pa.bool_(), len(values), [validity, _bits(values)])
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [validity, pa.py_buffer(values)])


def strings(names: list[str]) -> pa.Array:
    """A string array of `names`."""
    data = [name.encode() for name in names]
    offsets = np.cumsum([0, *map(len, data)], dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def dictionary(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
    """Strings as codes into `names` (DuckDB reads them as VARCHAR)."""
    return pa.DictionaryArray.from_arrays(column(codes), strings(names))
