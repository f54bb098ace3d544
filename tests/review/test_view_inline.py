"""`View.inline_sql`: every built-in view with parameters, its query with the parameters in place, gives
the rows the macro gives (defaults, and a given value), so the gallery may page that text instead."""

import math

import pytest

from qmdb import views

WITH_PARAMS = [v for v in views.builtin_views() if v.params]


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _rows(con, sql: str, params: list) -> list:
    return sorted(con.execute(sql, params or None).fetchall(), key=lambda row: repr(_rounded(row)))


def _same(a, b) -> bool:
    """Sums over parallel threads differ in their last bits from run to run: floats to 1e-9 relative."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


@pytest.mark.parametrize("view", WITH_PARAMS, ids=lambda v: v.name)
def test_inlined_view_gives_the_macros_rows(review_con, view):
    inline, values = view.inline_sql()
    assert _same(_rows(review_con, inline, values), _rows(review_con, *view.call_sql()))
    number = next((p for p in view.params if p.type in ("INTEGER", "BIGINT", "DOUBLE") and p.default != "NULL"), None)
    if number is not None:
        given = {number.name: int(float(number.default)) + 1}
        inline, values = view.inline_sql(given)
        assert values and set(values) == {given[number.name]}
        assert _same(_rows(review_con, inline, values), _rows(review_con, *view.call_sql(given)))


def test_a_reference_that_is_not_the_parameter_stays():
    view = views.View("v", "d", "SELECT t.k AS k, k + 1 AS k1, f(k := 2) FROM t k_alias ORDER BY k", (views.Param("k", "INTEGER", "3"),))
    assert view.inline_sql({"k": 5}) == ("SELECT t.k AS k, (CAST(? AS INTEGER)) + 1 AS k1, f(k := 2) FROM t k_alias "
                                         "ORDER BY (CAST(? AS INTEGER))", [5, 5])
