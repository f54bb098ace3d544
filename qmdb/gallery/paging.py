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
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qmdb.errors import InputError


@dataclass(frozen=True)
class Key:
    """One sort key: an output column, its direction, where its NULLs go (DuckDB's default: last), and
    its DuckDB type when a cursor's value must be cast back to it (decimals, dates, timestamps)."""

    column: str
    descending: bool = False
    nulls_first: bool = False
    type: str | None = None
    single: bool = False

    def placeholder(self) -> str:
        return f"CAST(? AS {self.type})" if self.type else "?"

    def expression(self) -> str:
        """The column, or with `single` a DOUBLE rounded to float32 (below 3e38): a query that sums in parallel
        threads gives a double whose last bits change from run to run, and a cursor must find it again."""
        column = _quote(self.column)
        return f"CASE WHEN abs({column}) < 3e38 THEN CAST({column} AS FLOAT) ELSE {column} END" if self.single else column

    def value(self, value: Any) -> Any:
        """What `expression` gives for a row's `value` (the cursor holds that)."""
        if self.single and isinstance(value, float) and abs(value) < 3e38:
            return struct.unpack("f", struct.pack("f", value))[0]
        return value

    def order(self) -> str:
        return f"{self.expression()} {'DESC' if self.descending else 'ASC'} NULLS {'FIRST' if self.nulls_first else 'LAST'}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _after(key: Key, value: Any, params: list) -> str | None:
    """The condition 'this key comes after `value`' in the key's order; None: nothing can."""
    column = key.expression()
    if value is None:
        return f"{column} IS NOT NULL" if key.nulls_first else None
    params.append(value)
    compare = f"{column} {'<' if key.descending else '>'} {key.placeholder()}"
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
                equal.append(f"{prior.expression()} IS NULL")
            else:
                equal.append(f"{prior.expression()} = {prior.placeholder()}")
                clause_params.append(value)
        after = _after(key, values[i], clause_params)
        if after is None:
            continue
        clauses.append("(" + " AND ".join(equal + [after]) + ")")
        params.extend(clause_params)
    return (" OR ".join(clauses) if clauses else "FALSE"), params


def equal_condition(keys: Sequence[Key], values: Sequence[Any]) -> tuple[str, list]:
    """The rows whose keys equal `values` (NULL equal to NULL), and its bound values."""
    clauses, params = [], []
    for key, value in zip(keys, values):
        if value is None:
            clauses.append(f"{key.expression()} IS NULL")
        else:
            clauses.append(f"{key.expression()} = {key.placeholder()}")
            params.append(value)
    return "(" + " AND ".join(clauses or ["TRUE"]) + ")", params


def page_sql(sql: str, keys: Sequence[Key], after: Sequence[Any] | None, limit: int,
             skip_equal: int = 0) -> tuple[str, list]:
    """One page of `sql` in the order of `keys`: the first `limit` rows, or those after the cursor values;
    with `skip_equal`, the rows equal to the cursor's values count too, less the first `skip_equal` of
    them (rows that tie on every key: the ones a page already showed)."""
    where, params = after_condition(keys, after) if after is not None else ("TRUE", [])
    if after is not None and skip_equal:
        equal, equal_params = equal_condition(keys, after)
        where, params = f"({where}) OR {equal}", params + equal_params
    order = ", ".join(k.order() for k in keys)
    skip = f" OFFSET {int(skip_equal)}" if after is not None and skip_equal else ""
    return (f"SELECT * FROM (\n{sql}\n) AS qmdb_keyset WHERE {where} ORDER BY {order} LIMIT {int(limit)}{skip}", params)


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


def _pack(body: Any) -> str:
    text = json.dumps(body, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unpack(token: str) -> Any:
    """The JSON a cursor holds, or None where it holds none."""
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None


def encode_cursor(row: Sequence[Any], indices: Sequence[int]) -> str:
    """The opaque cursor after `row`: its values at `indices` (the sort keys' columns, then the ids)."""
    return _pack([_value(row[i]) for i in indices])


def encode_position(query: str, start: int, values: Sequence[Any] | None, ties: int = 0) -> str:
    """The cursor of a gallery page: the query's fingerprint, the rows before the page, and (keyset)
    the last shown row's key values with how many shown rows tie with it on every key."""
    body = {"q": query, "n": int(start)}
    if values is not None:
        body |= {"k": [_value(v) for v in values], "t": int(ties)}
    return _pack(body)


def decode_position(token: str, query: str) -> tuple[int, list | None, int]:
    """(rows before the page, key values or None, ties) of a cursor of `query`; an `InputError` for any other."""
    body = _unpack(token)
    if not isinstance(body, dict) or not isinstance(body.get("n"), int) or body["n"] < 0 \
            or not isinstance(body.get("k", []), list) or not isinstance(body.get("t", 0), int) or body.get("t", 0) < 0:
        raise InputError("cursor", None, "not a cursor of this gallery")
    if body.get("q") != query:
        raise InputError("cursor", None, "it belongs to another query or other parameters; start again from the first page")
    values = [_unvalue(v) for v in body["k"]] if "k" in body else None
    return body["n"], values, body.get("t", 0)


def decode_cursor(token: str) -> list:
    """The key values a cursor holds; an `InputError` naming the cursor for anything else."""
    values = _unpack(token)
    if not isinstance(values, list):
        raise InputError("cursor", None, "not a cursor of this gallery")
    return [_unvalue(v) for v in values]
