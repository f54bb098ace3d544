"""The gallery's routes without a browser: the page, its files, cards of a view or a query under the
server's safety checks, plots as SVG, and JSON errors for bad input."""

import pytest

pytest.importorskip("fastapi", reason="the server routes need the 'server' extra")

from fastapi.testclient import TestClient  # noqa: E402

from qmdb.server import Settings, create_app  # noqa: E402


@pytest.fixture(scope="module")
def client(review_db):
    app = create_app(Settings(database=review_db, page_size=50))
    with TestClient(app) as test_client:
        yield test_client
    app.state.qmdb.con.close()


def test_page_and_static_files(client):
    page = client.get("/gallery")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/gallery/static/gallery.js" in page.text
    assert client.get("/gallery/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/gallery/static/index.py").status_code == 404
    config = client.get("/gallery/config").json()
    assert config["writable"] is False and set(config["plots"]) == {
        "histogram", "scatter", "by-metric", "importance", "confusion", "pr", "map", "calibration"}


def test_items_of_a_view_page_by_page(client):
    first = client.post("/gallery/items", json={"view": "select_outliers", "limit": 5}).json()
    second = client.post("/gallery/items", json={"view": "select_outliers", "limit": 5, "offset": 5}).json()
    everything = client.get("/views/select_outliers/rows", params={"limit": 10}).json()
    index = [c["name"] for c in first["columns"]].index("image_id")
    assert [r[index] for r in first["rows"] + second["rows"]] == [r[index] for r in everything["rows"]]
    assert [i["image_id"] for i in first["items"]] == [r[index] for r in first["rows"]]
    assert first["next_offset"] == 5 and all(i["focus_type"] == "image" for i in first["items"])


def test_a_query_is_checked_like_any_other(client):
    refused = client.post("/gallery/items", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"})
    assert refused.status_code == 403
    bad_ids = client.post("/gallery/items", json={"sql": "SELECT 'x' AS image_id"})
    assert bad_ids.status_code == 400 and "integer ids" in bad_ids.json()["error"]
    assert client.post("/gallery/items", json={}).status_code == 400
    no_ids = client.post("/gallery/items", json={"sql": "SELECT 1 AS n"}).json()
    assert no_ids["rows"] == [[1]] and no_ids["items"] == []


def test_plots_as_svg(client):
    svg = client.get("/gallery/plots/pr.svg", params={"model": "detector"})
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get("/gallery/plots/histogram.svg", params={"metric": "nope"}).status_code == 400
    assert client.get("/gallery/plots/histogram.svg", params={"bins": "many"}).json()["error"].startswith("plot histogram")
    assert client.get("/gallery/plots/nope.svg").status_code == 400
