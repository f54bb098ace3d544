"""Checking fields of parsed records, a column at a time, with errors that name the record.

Each check builds a whole column with Arrow/numpy and only when that fails
walks the records to name the first bad one, so a good file costs one pass
per field.

>>> recs = [{"id": 1, "bbox": [0, 0, 2, 2]}, {"id": 2, "bbox": [1, 1, 2]}]
>>> boxes("train.json", "annotations", "bbox", values(recs, "train.json", "annotations", "bbox"))
Traceback (most recent call last):
...
qmdb.errors.InputError: train.json: annotations[1].bbox: expected 4 numbers, got 3
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError

_MISSING = object()
_STRICT = ContextVar("qmdb_strict_boxes", default=False)


@contextmanager
def strict_boxes(strict: bool = True) -> Iterator[None]:
    """Within it, `check_inside` refuses boxes outside their image (`import_dataset(..., strict=True)`)."""
    token = _STRICT.set(strict)
    try:
        yield
    finally:
        _STRICT.reset(token)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}
    text = repr(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else ""
    text = text if len(text) <= 30 else text[:27] + "..."
    return f"{names.get(type(value), type(value).__name__)} {text}".strip()


def objects(file: object, items: object, name: str) -> list[dict]:
    """`items` must be a list of JSON objects."""
    if not isinstance(items, list):
        raise InputError(file, name, f"expected a list, got {_kind(items)}")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(file, f"{name}[{i}]", f"expected an object, got {_kind(item)}")
    return items


def values(items: list[dict], file: object, name: str, key: str, *, required: bool = True) -> list:
    """The values of one field; a missing required field (absent or null) is an error."""
    out = [item.get(key, _MISSING) for item in items]
    if required:
        for i, value in enumerate(out):
            if value is _MISSING or value is None:
                raise InputError(file, f"{name}[{i}].{key}", "required field is missing")
    return [None if v is _MISSING else v for v in out]


def _first_bad(file: object, name: str, key: str, vals: Sequence, ok, expected: str) -> InputError:
    for i, value in enumerate(vals):
        if not ok(value):
            return InputError(file, f"{name}[{i}].{key}", f"expected {expected}, got {_kind(value)}")
    return InputError(file, f"{name}[].{key}", f"expected {expected}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numbers(file: object, name: str, key: str, vals: Sequence) -> np.ndarray:
    """A float column; None stays NaN."""
    try:
        array = pa.array(vals, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _first_bad(file, name, key, vals, lambda v: v is None or _is_number(v), "a number") from None
    if any(isinstance(v, bool) for v in vals):
        raise _first_bad(file, name, key, vals, lambda v: not isinstance(v, bool), "a number")
    return array.to_numpy(zero_copy_only=False)


def ints(file: object, name: str, key: str, vals: Sequence) -> np.ndarray:
    """An int64 column of required integers (ids)."""
    floats = numbers(file, name, key, vals)
    bad = np.isnan(floats) | (floats != np.round(floats))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(file, f"{name}[{i}].{key}", f"expected an integer, got {_kind(vals[i])}")
    return floats.astype(np.int64)


def strings(file: object, name: str, key: str, vals: Sequence, *, required: bool = False) -> pa.Array:
    """A string column; numbers are not silently turned into strings."""
    try:
        array = pa.array(vals, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _first_bad(file, name, key, vals, lambda v: v is None or isinstance(v, str), "a string") from None
    if required and array.null_count:
        raise _first_bad(file, name, key, vals, lambda v: v is not None, "a string")
    return array


def boxes(file: object, name: str, key: str, vals: Sequence) -> np.ndarray:
    """An (n, 4) float array of [x, y, w, h]; NaN rows where the box is null."""
    try:
        array = pa.array(vals, type=pa.list_(pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ok = lambda v: v is None or (isinstance(v, list) and all(_is_number(c) for c in v))  # noqa: E731
        raise _first_bad(file, name, key, vals, ok, "a list of 4 numbers") from None
    lengths = pc.fill_null(pc.list_value_length(array), 4).to_numpy(zero_copy_only=False)
    if (lengths != 4).any():
        i = int(np.argmax(lengths != 4))
        raise InputError(file, f"{name}[{i}].{key}", f"expected 4 numbers, got {lengths[i]}")
    out = np.full((len(vals), 4), np.nan)
    valid = ~array.is_null().to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(array).to_numpy(zero_copy_only=False)
    out[valid] = flat.reshape(-1, 4)
    bad = valid & (~np.isfinite(out).all(axis=1) | (out[:, 2] < 0) | (out[:, 3] < 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(file, f"{name}[{i}].{key}", f"width and height must be finite and >= 0, got {vals[i]}")
    return out


def unique(file: object, name: str, key: str, ids: np.ndarray) -> None:
    """No id may appear twice."""
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if dup.size:
        first, second = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
        raise InputError(file, f"{name}[{second}].{key}", f"duplicate id {ids[second]} (also {name}[{first}])")


def members(file: object, name: str, key: str, ids: np.ndarray, allowed: np.ndarray, what: str) -> None:
    """Every id must be one of `allowed` (a reference to another list)."""
    bad = ~np.isin(ids, allowed)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(file, f"{name}[{i}].{key}", f"unknown {what} {ids[i]}")


def check_inside(boxes_xywh: np.ndarray, width: np.ndarray, height: np.ndarray, where, *, tolerance: float = 1.0) -> None:
    """Under `strict_boxes()`, boxes must lie inside their image (to `tolerance` pixels, for rounding);
    unknown sizes are not checked. Otherwise nothing is refused: such boxes are stored as written and
    the `errors_out_of_bounds` view flags them (pycocotools evaluates them as they are).

    `where(i)` gives the (file, field) of box i for the error.

    >>> with strict_boxes():
    ...     check_inside(np.array([[300.0, 10, 100, 20]]), np.array([320.0]), np.array([240.0]), lambda i: ("a.json", "x"))
    Traceback (most recent call last):
    ...
    qmdb.errors.InputError: a.json: x: box [300, 10, 100, 20] (x, y, w, h) lies outside the 320x240 image
    >>> check_inside(np.array([[300.0, 10, 100, 20]]), np.array([320.0]), np.array([240.0]), lambda i: ("a.json", "x"))
    """
    if not _STRICT.get():
        return
    x, y, w, h = boxes_xywh.T
    with np.errstate(invalid="ignore"):
        outside = (x < -tolerance) | (y < -tolerance) | (x + w > width + tolerance) | (y + h > height + tolerance)
    outside &= ~np.isnan(width) & ~np.isnan(x)
    if outside.any():
        i = int(np.argmax(outside))
        file, field = where(i)
        box = ", ".join(f"{v:g}" for v in boxes_xywh[i])
        raise InputError(file, field, f"box [{box}] (x, y, w, h) lies outside the {width[i]:g}x{height[i]:g} image")
