"""Keyset paging (`qmdb.gallery.paging`): pages through ties and NULLs lose and repeat no row."""

import duckdb
import pytest

from qmdb.errors import InputError
from qmdb.gallery.paging import Key, decode_cursor, encode_cursor, page_sql

ORDERS = [
    [Key("area", descending=True), Key("id")],
    [Key("area"), Key("id")],
    [Key("area", nulls_first=True), Key("id")],
    [Key("area", descending=True, nulls_first=True), Key("cls"), Key("id")],
]


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id, CASE WHEN range % 7 = 0 THEN NULL ELSE (range * 13) % 5 END AS area, "
                "CASE WHEN range % 3 = 0 THEN NULL ELSE 'c' || (range % 2) END AS cls, "
                "CASE WHEN range % 11 = 0 THEN 'nan'::DOUBLE ELSE range / 4 END AS f FROM range(103)")
    return con


@pytest.mark.parametrize("keys", ORDERS)
@pytest.mark.parametrize("limit", [1, 8, 200])
def test_pages_union_to_the_sorted_result(con, keys, limit):
    order = ", ".join(k.order() for k in keys)
    full = con.execute(f"SELECT * FROM t ORDER BY {order}").fetchall()
    names = [d[0] for d in con.execute("SELECT * FROM t LIMIT 0").description]
    indices = [names.index(k.column) for k in keys]
    seen, cursor = [], None
    while True:
        sql, params = page_sql("SELECT * FROM t ORDER BY id DESC", keys, decode_cursor(cursor) if cursor else None, limit)
        page = con.execute(sql, params).fetchall()
        seen += page
        if len(page) < limit:
            break
        cursor = encode_cursor(page[-1], indices)
    assert [r[0] for r in seen] == [r[0] for r in full]
    assert len({r[0] for r in seen}) == len(seen) == 103


def test_a_nan_key_and_a_bad_cursor(con):
    keys = [Key("f", descending=True), Key("id")]
    full = con.execute(f"SELECT id FROM t ORDER BY {', '.join(k.order() for k in keys)}").fetchall()
    first = con.execute(*page_sql("SELECT id, f FROM t", keys, None, 5)).fetchall()
    rest = con.execute(*page_sql("SELECT id, f FROM t", keys, decode_cursor(encode_cursor(first[-1], [1, 0])), 500)).fetchall()
    assert [r[0] for r in first + rest] == [r[0] for r in full]
    with pytest.raises(InputError, match="cursor"):
        decode_cursor("not base64 json!")
    with pytest.raises(InputError, match="cursor: 1 values for 2 sort keys"):
        page_sql("SELECT * FROM t", keys, [1], 5)
