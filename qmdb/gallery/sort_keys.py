"""The total order a gallery pages a query in: its own final ORDER BY, read with sqlglot and mapped
to output columns, then the result's ids and every other scalar column as tiebreaks.

Rows that tie on the query's ORDER BY come in DuckDB's arbitrary order; these keys break the ties
by `image_id`, `label_id`, `prediction_id` and then the remaining scalar columns, so pages cut the
same order every time (`qmdb.gallery.paging`). `None` when the order cannot be expressed in output
columns (an ORDER BY on an expression the query does not return, or on a nested value): such a
query pages by OFFSET.

>>> import duckdb
>>> rel = duckdb.connect().sql("SELECT * FROM (SELECT 1 AS label_id, 0.5 AS score, [1] AS xs) q")
>>> [k.order() for k in sort_keys("SELECT label_id, score FROM t ORDER BY score DESC", rel.columns, rel.types)]
['"score" DESC NULLS LAST', '"label_id" ASC NULLS LAST']
>>> rel = duckdb.connect().sql("SELECT 1 AS label_id, 0.5::DOUBLE AS score")
>>> sort_keys("SELECT * FROM t ORDER BY score", rel.columns, rel.types)[0].order()
'CASE WHEN abs("score") < 3e38 THEN CAST("score" AS FLOAT) ELSE "score" END ASC NULLS LAST'
>>> sort_keys("SELECT * FROM t ORDER BY score", rel.columns, rel.types)[0].value(0.1)
0.10000000149011612
>>> sort_keys("SELECT label_id, score FROM t ORDER BY score * 2", rel.columns, rel.types) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from .items import ID_COLUMNS

_OPEN = (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE)
_CLOSE = (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE)
_AFTER_ORDER = (TokenType.LIMIT, TokenType.OFFSET, TokenType.FETCH)
from .paging import Key

_UNORDERED = ("list", "struct", "map", "union", "array", "blob", "bit", "interval", "varint", "variant")


def _orderable(duck_type: object) -> bool:
    return getattr(duck_type, "id", str(duck_type).lower()) not in _UNORDERED


@lru_cache(maxsize=256)
def _order_by(sql: str) -> tuple | None:
    """The final ORDER BY of `sql` as (expression, descending, nulls_first) triples, () when it has none;
    None when sqlglot cannot read it. The projections come along to map expressions to output names."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    order = tree.args.get("order")
    if order is None:
        return ((), ())
    projections = tuple(tree.expressions) if isinstance(tree, exp.Select) else ()
    return tuple((o.this, bool(o.args.get("desc")), bool(o.args.get("nulls_first"))) for o in order.expressions), projections


def _output_name(expression: exp.Expression, projections: Sequence[exp.Expression], columns: Sequence[str]) -> str | None:
    if isinstance(expression, exp.Literal) and expression.is_int:
        position = int(expression.this) - 1
        starred = any(isinstance(p, exp.Star) or isinstance(p, exp.Column) and isinstance(p.this, exp.Star)
                      for p in projections)
        return columns[position] if 0 <= position < len(columns) and not starred else None
    if isinstance(expression, exp.Column) and not expression.table and columns.count(expression.name) == 1:
        return expression.name
    for projection in projections:
        if projection.unalias() == expression and columns.count(projection.alias_or_name) == 1:
            return projection.alias_or_name
    return None


def unordered(sql: str) -> str | None:
    """`sql` without its final ORDER BY, for a caller that sorts the result itself (DuckDB would sort
    the rows twice); None when the order decides which rows come back (a LIMIT, OFFSET or FETCH after
    it, DISTINCT ON) or the text cannot be read, and `sql` itself when it has no ORDER BY.

    >>> unordered("SELECT a, rank() OVER (ORDER BY b) FROM t ORDER BY a DESC")
    'SELECT a, rank() OVER (ORDER BY b) FROM t '
    >>> unordered("SELECT a FROM t ORDER BY a LIMIT 5") is None
    True
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    except sqlglot.errors.SqlglotError:
        return None
    depth, order, end = 0, None, None
    for i, token in enumerate(tokens):
        depth += (token.token_type in _OPEN) - (token.token_type in _CLOSE)
        if depth:
            continue
        if token.token_type == TokenType.DISTINCT and i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.ON:
            return None
        if token.token_type == TokenType.ORDER_BY:
            order = token
        elif order is not None and token.token_type in _AFTER_ORDER:
            return None
        if token.token_type != TokenType.SEMICOLON:
            end = token
    if order is None:
        return sql
    return sql[:order.start] + sql[end.end + 1:]


def _key(name: str, duck_type: object, descending: bool = False, nulls_first: bool = False) -> Key:
    text = str(duck_type)
    single = text in ("DOUBLE", "FLOAT")
    return Key(name, descending, nulls_first, "DOUBLE" if single else text, single)


def sort_keys(sql: str, columns: Sequence[str], types: Sequence[object]) -> list[Key] | None:
    """The keys that page `sql` (whose result has `columns` of DuckDB `types`) in a total order, or None."""
    parsed = _order_by(sql)
    if parsed is None:
        return None
    order, projections = parsed
    type_of = dict(zip(columns, types))
    keys: list[Key] = []
    for expression, descending, nulls_first in order:
        name = _output_name(expression, projections, list(columns))
        if name is None or not _orderable(type_of[name]):
            return None
        if all(k.column != name for k in keys):
            keys.append(_key(name, type_of[name], descending, nulls_first))
    ties = [c for c in ID_COLUMNS if c in type_of] + [c for c in columns if c not in ID_COLUMNS]
    for name in ties:
        if columns.count(name) == 1 and _orderable(type_of[name]) and all(k.column != name for k in keys):
            keys.append(_key(name, type_of[name]))
    return keys or None
