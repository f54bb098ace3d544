"""The demo project served read-only: every view runs over HTTP with the rows Python gets,
and the similarity search (the one family of Python functions the server registers) works."""

import shutil

import pytest
from fastapi.testclient import TestClient

import qmdb
from qmdb import views
from qmdb.server import Settings, create_app

pytestmark = pytest.mark.slow  # builds (or reuses) the session's demo project


@pytest.fixture(scope="module")
def demo(demo_db, tmp_path_factory):
    """Two fresh copies, one to serve and one for Python: other tests may hold the demo file
    open, and one process cannot open a file with two configurations at once."""
    copies = []
    for role in ("served", "python"):
        copy = tmp_path_factory.mktemp(f"demo-{role}") / "demo.duckdb"
        shutil.copyfile(demo_db, copy)
        wal = demo_db.with_name(demo_db.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        sidecar = demo_db.with_suffix(".qmdb")
        if sidecar.exists():
            shutil.copytree(sidecar, copy.with_suffix(".qmdb"))
        copies.append(copy)
    return tuple(copies)


def test_views_run_the_same_over_http_and_in_python(demo):
    served, copy = demo
    con = qmdb.connect(copy)
    with TestClient(create_app(Settings(database=served, page_size=50_000, max_page_size=50_000))) as client:
        listed = {v["name"] for v in client.get("/views").json()["views"]}
        assert listed == {v.name for v in views.list_views(con)}
        checked = 0
        for view in views.list_views(con):
            if view.needs_qmdb:
                continue
            try:
                expected = qmdb.run_view(con, view.name).fetchall()
            except qmdb.QmdbError:
                continue  # a view whose tables this demo lacks fails the same way in Python
            got, offset = [], 0
            while offset is not None:  # every page
                response = client.get(f"/views/{view.name}/rows", params={"offset": offset})
                assert response.status_code == 200, (view.name, response.text)
                got += [tuple(r) for r in response.json()["rows"]]
                offset = response.json()["next_offset"]
            assert len(got) == len(expected), view.name
            checked += 1
        assert checked >= 5
    con.close()


def test_similarity_search_is_served(demo):
    served, copy = demo
    con = qmdb.connect(copy)
    if not con.sql("SELECT count(*) FROM embeddings").fetchall()[0][0]:
        pytest.skip("the demo has no embeddings")
    image_id = con.sql("SELECT item_id FROM embeddings WHERE item_type = 'image' LIMIT 1").fetchall()[0][0]
    expected = con.sql(f"SELECT image_id FROM similar_images({image_id}, k := 5) ORDER BY rank").fetchall()
    con.close()
    with TestClient(create_app(Settings(database=served))) as client:
        response = client.post("/query", json={
            "sql": "SELECT image_id FROM similar_images(?, k := 5) ORDER BY rank", "params": [image_id]})
        assert response.status_code == 200, response.text
        assert [tuple(r) for r in response.json()["rows"]] == expected
