"""Keyset (seek) paging of a sorted query: the next page is the rows after the last row's sort key
and unique tiebreak id, so a page costs a filtered top-N whatever its depth (OFFSET sorts and skips
every row before it).

The sort keys are `Key`s (column, direction, NULL placement); the tiebreak ids go last, ascending,
so the order is total. A cursor is opaque: the last row's key values, URL-safe base64 of JSON.

>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 2), (2, NULL), (3, 2), (4, 5)) v(id, area)")
>>> keys = [Key("area", descending=True), Key("id")]
>>> sql, params = page_sql("SELECT * FROM t", keys, None, 2)
>>> first = con.execute(sql, params).fetchall(); first
[(4, 5), (1, 2)]
>>> token = encode_cursor(first[-1], [1, 0])
>>> sql, params = page_sql("SELECT * FROM t", keys, decode_cursor(token), 2)
>>> con.execute(sql, params).fetchall()
[(3, 2), (2, None)]
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qmdb.errors import InputError


@dataclass(frozen=True)
class Key:
    """One sort key: an output column, its direction, and where its NULLs go (DuckDB's default: last)."""

    column: str
    descending: bool = False
    nulls_first: bool = False

    def order(self) -> str:
        return f"{_quote(self.column)} {'DESC' if self.descending else 'ASC'} NULLS {'FIRST' if self.nulls_first else 'LAST'}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _after(key: Key, value: Any, params: list) -> str | None:
    """The condition 'this key comes after `value`' in the key's order; None: nothing can."""
    column = _quote(key.column)
    if value is None:
        return f"{column} IS NOT NULL" if key.nulls_first else None
    params.append(value)
    compare = f"{column} {'<' if key.descending else '>'} ?"
    return compare if key.nulls_first else f"({compare} OR {column} IS NULL)"


def after_condition(keys: Sequence[Key], values: Sequence[Any]) -> tuple[str, list]:
    """The rows strictly after `values` in the order of `keys` (lexicographic, NULL-aware), and its bound values.

    >>> after_condition([Key("a"), Key("id")], [None, 7])
    ('("a" IS NULL AND ("id" > ? OR "id" IS NULL))', [7])
    """
    if len(keys) != len(values):
        raise InputError("cursor", None, f"{len(values)} values for {len(keys)} sort keys")
    clauses, params = [], []
    for i, key in enumerate(keys):
        clause_params: list = []
        equal = []
        for prior, value in zip(keys[:i], values[:i]):
            if value is None:
                equal.append(f"{_quote(prior.column)} IS NULL")
            else:
                equal.append(f"{_quote(prior.column)} = ?")
                clause_params.append(value)
        after = _after(key, values[i], clause_params)
        if after is None:
            continue
        clauses.append("(" + " AND ".join(equal + [after]) + ")")
        params.extend(clause_params)
    return (" OR ".join(clauses) if clauses else "FALSE"), params


def page_sql(sql: str, keys: Sequence[Key], after: Sequence[Any] | None, limit: int) -> tuple[str, list]:
    """One page of `sql` in the order of `keys`: the first `limit` rows, or those after the cursor values."""
    where, params = after_condition(keys, after) if after is not None else ("TRUE", [])
    order = ", ".join(k.order() for k in keys)
    return (f"SELECT * FROM (\n{sql}\n) AS qmdb_keyset WHERE {where} ORDER BY {order} LIMIT {int(limit)}", params)


def _value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return {"f": repr(v)}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return {"s": str(v)}  # dates, times, decimals, UUIDs: DuckDB casts the text back to the column's type


def _unvalue(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"f"} and v["f"] in ("nan", "inf", "-inf"):
            return float(v["f"])
        if set(v) == {"s"} and isinstance(v["s"], str):
            return v["s"]
        raise InputError("cursor", None, "not a cursor of this gallery")
    return v


def encode_cursor(row: Sequence[Any], indices: Sequence[int]) -> str:
    """The opaque cursor after `row`: its values at `indices` (the sort keys' columns, then the ids)."""
    text = json.dumps([_value(row[i]) for i in indices], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> list:
    """The key values a cursor holds; an `InputError` naming the cursor for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        raise InputError("cursor", None, "not a cursor of this gallery") from None
    if not isinstance(values, list):
        raise InputError("cursor", None, "not a cursor of this gallery")
    return [_unvalue(v) for v in values]
