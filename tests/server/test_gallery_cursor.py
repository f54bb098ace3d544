"""`POST /gallery/items` pages by cursor (`server.pages`): every row once, in the query's order with its
ties broken, through NULLs, NaN, decimals, timestamps and rows that tie on every column; cursors of
another query and forged cursors are one clear error; an order the server cannot key pages by OFFSET."""

import duckdb
import pytest

pytest.importorskip("fastapi", reason="the server routes need the 'server' extra")

from fastapi.testclient import TestClient  # noqa: E402

import qmdb  # noqa: E402
from qmdb import views  # noqa: E402
from qmdb.server import Settings, create_app  # noqa: E402

ROWS = 157


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    path = tmp_path_factory.mktemp("cursor") / "p.duckdb"
    con = qmdb.connect(path)
    con.execute("INSERT INTO images (image_id, dataset, path, width, height) "
                "SELECT range, 'd', 'i' || range || '.png', 64, 48 FROM range(40)")
    con.execute(f"""INSERT INTO labels (label_id, image_id, class, x, y, w, h, source_id)
        SELECT range, range % 40, 'c' || (range % 3), 0, 0, 1 + range % 4, 1 + (range * 7) % 5, 's' || range
        FROM range({ROWS})""")
    views.save(con, "by_area", "SELECT label_id, image_id, class, w * h AS area, "
                   "CASE WHEN label_id % 9 = 0 THEN NULL ELSE (w * h)::DECIMAL(6, 2) / 3 END AS share, "
                   "TIMESTAMP '2026-01-01' + to_seconds(label_id % 5) AS seen FROM labels ORDER BY area DESC, share",
                   "labels by area, for the paging test")
    views.save(con, "by_area_over", "SELECT label_id, image_id, w * h AS area FROM labels WHERE w * h >= min_area "
               "ORDER BY area DESC", "labels by area over a minimum", params={"min_area": ("INTEGER", "0")})
    con.close()
    app = create_app(Settings(database=path, page_size=50))
    with TestClient(app) as test_client:
        yield test_client
    app.state.qmdb.con.close()


def pages(client, body: dict, limit: int) -> list[dict]:
    out, cursor = [], None
    while True:
        page = client.post("/gallery/items", json={**body, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        page = page.json()
        out.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def rows(pages_: list[dict]) -> list:
    return [r for p in pages_ for r in p["rows"]]


@pytest.mark.parametrize("limit", [1, 7, 50, 500])
def test_a_view_pages_every_row_once_in_its_order(client, limit):
    got = pages(client, {"view": "by_area"}, limit)
    seen = rows(got)
    assert sorted(r[0] for r in seen) == list(range(ROWS))
    areas = [r[3] for r in seen]
    assert areas == sorted(areas, reverse=True)
    for a, b in zip(seen, seen[1:]):  # ties on area come by share (NULLs last), then image_id, label_id
        if a[3] == b[3]:
            assert (a[4] is None, a[4] or 0, a[1], a[0]) < (b[4] is None, b[4] or 0, b[1], b[0])
    assert [p["offset"] for p in got] == list(range(0, ROWS, min(limit, 50)))[:len(got)]
    assert [i["focus_id"] for p in got for i in p["items"]] == [r[0] for r in seen]


@pytest.mark.parametrize("sql", [
    "SELECT label_id % 4 AS k, 'x' AS v FROM labels ORDER BY k",  # every row ties with dozens of others
    "SELECT image_id, CASE WHEN image_id % 5 = 0 THEN 'nan'::DOUBLE ELSE image_id % 3 END AS f FROM images ORDER BY f DESC",
    "SELECT label_id, class FROM labels",  # no ORDER BY: id order
])
def test_ties_nan_and_no_order(client, sql):
    with duckdb.connect() as con:
        con.execute("CREATE TABLE labels AS SELECT range AS label_id, 'c' || (range % 3) AS class FROM range(157)")
        con.execute("CREATE TABLE images AS SELECT range AS image_id FROM range(40)")
        expected = [r[0] for r in con.execute(sql).fetchall()]
    seen = [r[0] for r in rows(pages(client, {"sql": sql}, 6))]
    assert sorted(seen) == sorted(expected)
    if "ORDER BY" not in sql or "ORDER BY k" in sql:
        assert seen == sorted(seen)


@pytest.mark.parametrize("params", [{}, {"min_area": 6}])
def test_a_view_with_parameters_pages_its_rows(client, params):
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE labels AS SELECT range AS label_id, range % 40 AS image_id, 1 + range % 4 AS w, "
                    f"1 + (range * 7) % 5 AS h FROM range({ROWS})")
        expected = con.execute(f"SELECT label_id, image_id, w * h FROM labels WHERE w * h >= {params.get('min_area', 0)} "
                               f"ORDER BY w * h DESC, image_id, label_id").fetchall()
    assert [tuple(r) for r in rows(pages(client, {"view": "by_area_over", "params": params}, 9))] == expected


def test_an_offset_link_then_cursors(client):
    everything = rows(pages(client, {"view": "by_area"}, 500))
    page = client.post("/gallery/items", json={"view": "by_area", "limit": 10, "offset": 30}).json()
    assert page["offset"] == 30 and page["rows"] == everything[30:40]
    rest = client.post("/gallery/items", json={"view": "by_area", "limit": 10, "cursor": page["next_cursor"]}).json()
    assert rest["offset"] == 40 and rest["rows"] == everything[40:50]


def test_an_order_the_server_cannot_key_pages_by_offset(client):
    sql = "SELECT label_id, w FROM labels ORDER BY w * h DESC, label_id"
    got = pages(client, {"sql": sql}, 20)
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE labels AS SELECT range AS label_id, 1 + range % 4 AS w, 1 + (range * 7) % 5 AS h "
                    f"FROM range({ROWS})")
        assert [tuple(r) for r in rows(got)] == con.execute(sql).fetchall()


def test_bad_cursors_are_one_clear_error(client):
    first = client.post("/gallery/items", json={"view": "by_area", "limit": 5}).json()
    other = client.post("/gallery/items", json={"sql": "SELECT label_id FROM labels", "cursor": first["next_cursor"]})
    assert other.status_code == 400 and "another query" in other.json()["error"]
    forged = client.post("/gallery/items", json={"view": "by_area", "cursor": "bm90IGEgY3Vyc29y"})
    assert forged.status_code == 400 and forged.json()["error"].startswith("cursor")


def test_doubles_whose_last_bits_change_between_runs_page_every_row_once(client):
    """A view that sums in parallel threads recomputes its doubles with other last bits (relative to their size) on each page;
    the keys read them at float32 precision, so no row falls between two pages."""
    sql = ("SELECT label_id, (label_id % 5) / 7.0 * (1 + (SELECT random()) * 1e-15 * ((label_id * 7919) % 13)) AS score "
           "FROM labels ORDER BY score DESC")
    seen = [r[0] for r in rows(pages(client, {"sql": sql}, 7))]
    assert sorted(seen) == list(range(ROWS))
