"""Gallery pages by cursor: each page is the rows after the last one shown, in the query's own order
with its ties broken (`qmdb.gallery.sort_keys`), so a page deep in a million-row view costs a
filtered top-N instead of sorting and skipping every row before it (`qmdb.gallery.paging`).

The cursor (`next_cursor`) is opaque: the query's fingerprint, the rows before the page, the last
row's key values and how many shown rows tie with it on every key. A query whose order cannot be
read in its output columns pages by OFFSET behind the same cursor. An `offset` without a cursor
starts at that row (OFFSET once, in the same total order), and the cursors continue from there.
"""

from __future__ import annotations

import hashlib
import json

from qmdb.errors import InputError
from qmdb.gallery.paging import Key, decode_position, encode_position, page_sql
from qmdb.gallery.sort_keys import sort_keys, unordered

from .errors import ApiError
from .execution import Query, Runner


def fingerprint(query: Query) -> str:
    text = json.dumps([query.sql, query.params], default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _keys(runner: Runner, query: Query, order_sql: str) -> list[Key] | None:
    if isinstance(query.params, dict):
        return None
    columns, _ = runner.fetch(Query(f"SELECT * FROM (\n{query.sql}\n) AS qmdb_page LIMIT 0", query.params))
    return sort_keys(order_sql, [c["name"] for c in columns], [c["duck_type"] for c in columns])


def _body(query: Query, body: Query | None) -> tuple[str, list]:
    """The query to page by keys: `body` (the same rows: the query itself, or its view's text with the
    parameters in place) without its final ORDER BY where dropping it changes no row (the keys sort
    anyway; DuckDB would sort twice); else the query as given."""
    stripped = unordered(body.sql) if body is not None and not isinstance(body.params, dict) else None
    return (stripped, list(body.params or [])) if stripped else (query.sql, list(query.params or []))


def _tie(row: tuple, keys: list[Key], indices: list[int]) -> str:
    return json.dumps([str(k.value(row[i])) for k, i in zip(keys, indices)])


def gallery_page(runner: Runner, query: Query, order_sql: str, limit: int | None, offset: int,
                 cursor: str | None, *, body: Query | None = None) -> dict:
    """One page of a checked query, as `Runner.json_page` gives it, plus `next_cursor` (None on the last page).
    `order_sql` is the text whose final ORDER BY the query's order is (the query, or its view's body);
    `body`, a query of the same rows that may be run without that ORDER BY."""
    query_id = fingerprint(query)
    try:
        start, after, ties = decode_position(cursor, query_id) if cursor else (offset, None, 0)
    except InputError as error:
        raise ApiError(400, str(error)) from None
    limit = runner.page_limit(limit, start)
    keys = _keys(runner, query, order_sql)
    if keys is None or (after is None and cursor):
        sql = f"SELECT * FROM (\n{query.sql}\n) AS qmdb_page LIMIT {limit + 1} OFFSET {int(start)}"
        page = Query(sql, query.params)
    else:
        if after is not None and len(after) != len(keys):
            raise ApiError(400, "cursor: not a cursor of this gallery")
        text, params = _body(query, body)
        sql, key_params = page_sql(text, keys, after, limit + 1, ties)
        page = Query(sql + (f" OFFSET {int(start)}" if after is None and start else ""), params + key_params)
    columns, rows = runner.fetch(page)
    result = runner.page(columns, rows, start, limit)
    rows, next_cursor = result["rows"], None
    if result["next_offset"] is not None:
        if keys is None:
            next_cursor = encode_position(query_id, start + limit, None)
        else:
            names = [c["name"] for c in columns]
            indices = [names.index(k.column) for k in keys]
            last = _tie(rows[-1], keys, indices)
            tied = next(k for k in range(len(rows) + 1) if k == len(rows) or _tie(rows[-1 - k], keys, indices) != last)
            if tied == len(rows) and after is not None and _tie(tuple(after), keys, list(range(len(after)))) == last:
                tied += ties
            next_cursor = encode_position(query_id, start + limit,
                                          [k.value(rows[-1][i]) for k, i in zip(keys, indices)], tied)
    return {**result, "next_cursor": next_cursor}
