"""Extra fields of a source (COCO image/annotation keys, VOC tags, table columns) as new columns.

Any field a format does not map to a core column becomes a column of `images`
or `labels`, so every piece of metadata is a slice you can GROUP BY. A field
whose name is a core column (case-insensitively, as DuckDB compares names) is
refused, naming it.

>>> cols = extra_fields([{"id": 1, "camera": "a"}, {"id": 2, "camera": "b", "night": True}], {"id"}, "x.json", "images", "images")
>>> {k: v.to_pylist() for k, v in cols.items()}
{'camera': ['a', 'b'], 'night': [None, True]}
"""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError

CORE_COLUMNS = {
    "images": {"image_id", "dataset", "path", "split", "width", "height", "file_size", "sha256", "status", "source_id"},
    "labels": {"label_id", "image_id", "class", "x", "y", "w", "h", "polygon", "area", "iscrowd", "annotator",
               "source_id", "mask", "keypoints", "num_keypoints"},
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ \-.]*$")


def check_name(file: object, table: str, field: str) -> None:
    """A metadata field may not shadow a core column and must be a plain name."""
    if field.lower() in CORE_COLUMNS[table]:
        raise InputError(file, field, f"metadata field collides with the core column {table}.{field.lower()}; rename it")
    if not _NAME.match(field) or '"' in field:
        raise InputError(file, field, "metadata field names must start with a letter or _ and use letters, digits, _ - . or space")


def as_column(vals: list) -> pa.Array:
    """Scalars keep their type; nested or mixed values become JSON text."""
    try:
        array = pa.array(vals)
        if not (pa.types.is_nested(array.type) or pa.types.is_null(array.type)):
            return array
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array([None if v is None else json.dumps(v) for v in vals], pa.string())


def extra_fields(items: list[dict], known: set[str], file: object, name: str, table: str,
                 ignored: frozenset[str] = frozenset()) -> dict[str, pa.Array]:
    """Columns for every key of `items` that is neither `known` (mapped) nor `ignored`."""
    keys: set[str] = set().union(*(item.keys() for item in items)) if items else set()
    extra = sorted(keys - known - ignored)
    lowered: dict[str, str] = {}
    for key in extra:
        check_name(file, table, key)
        if key.lower() in lowered:
            raise InputError(file, f"{name}[].{key}", f"differs from field '{lowered[key.lower()]}' only in case")
        lowered[key.lower()] = key
    return {key: as_column([item.get(key) for item in items]) for key in extra}


def sql_types(con, arrays: dict[str, pa.Array]) -> dict[str, str]:
    """The DuckDB type of each column, as DuckDB reads the Arrow column."""
    if not arrays:
        return {}
    table = pa.table(arrays)
    rel = con.from_arrow(table)
    return {name: str(t) for name, t in zip(rel.columns, rel.types)}


def typed_text(vals: list[str | None]) -> pa.Array:
    """Text values (XML, CSV) as integers or numbers when every one reads as such, else strings.

    >>> typed_text(["0", "1", None]).type, typed_text(["0.5", "1"]).type, typed_text(["Left", "1"]).type
    (DataType(int64), DataType(double), DataType(string))
    """
    array = pa.array([None if v in (None, "") else v for v in vals], pa.string())
    for target in (pa.int64(), pa.float64()):
        try:
            return pc.cast(array, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return array
