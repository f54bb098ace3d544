"""Write endpoints exist only with --allow-writes and a token; bearer auth guards everything when asked."""

import shutil

import pytest
from fastapi.testclient import TestClient

from qmdb.server import Settings, create_app

TOKEN = "write-secret"


@pytest.fixture(scope="module")
def writable(project, tmp_path_factory):
    copy = tmp_path_factory.mktemp("writable") / "copy.duckdb"
    shutil.copyfile(project["db"], copy)
    app = create_app(Settings(database=copy, allow_writes=True, write_token=TOKEN, timeout=5))
    with TestClient(app) as client:
        yield client, copy


def auth(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def test_read_only_server_answers_writes_with_403(client):
    for response in (client.post("/tags", json={"item_type": "image", "item_id": 1, "tag": "x"}),
                     client.post("/snapshots", json={"view": "dataset_summary", "name": "s"}),
                     client.post("/views", json={"name": "v", "sql": "SELECT 1", "description": "d"}),
                     client.delete("/views/digits_of_class"), client.delete("/snapshots/s"),
                     client.post("/fix", json={"view": "errors_classification"}), client.post("/batches/1/undo"),
                     client.post("/checks/run", json={}),
                     client.post("/gallery/tags", json={"items": [{"item_type": "image", "item_id": 1}], "tag": "x"})):
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "read-only: start with --allow-writes"


def test_every_listed_view_runs(client):
    listed = {v["name"]: v for v in client.get("/views").json()["views"]}
    assert "select_coreset" in listed  # its coreset() is served (it failed: "coreset does not exist")
    for name, view in listed.items():
        response = client.get(f"/views/{name}/rows", params={"limit": 1})
        assert response.status_code < 500, (name, response.text)
        assert "does not exist" not in response.text, (name, response.text)


def test_writes_need_the_token(writable):
    client, _ = writable
    for headers in ({}, auth("wrong")):
        response = client.post("/tags", json={"item_type": "image", "item_id": 1, "tag": "x"}, headers=headers)
        assert response.status_code == 401 and response.json()["error"]


def test_save_a_view_then_run_it(writable):
    client, _ = writable
    body = {"name": "wide_digits", "description": "Digit images at least min_width wide.",
            "sql": "SELECT image_id, width FROM images WHERE dataset = 'digits' AND width >= min_width",
            "parameters": [{"name": "min_width", "type": "INTEGER", "default": "32"}]}
    assert client.post("/views", json=body, headers=auth()).status_code == 201
    listed = {v["name"] for v in client.get("/views").json()["views"]}
    assert "wide_digits" in listed
    rows = client.get("/views/wide_digits/rows", params={"min_width": 33}).json()["rows"]
    assert rows == []
    assert len(client.get("/views/wide_digits/rows").json()["rows"]) == 120  # every digit image is 32 wide
    assert client.delete("/views/wide_digits", headers=auth()).json()["deleted"]


@pytest.mark.parametrize("sql, message", [
    ("SELECT nope FROM images", "nope"),
    ("SELECT path FROM images WHERE width > min_w", "declare it"),
    ("SELECT 1 AS a; DROP TABLE images", "one"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
])
def test_bad_view_is_refused_at_save_time(writable, sql, message):
    client, _ = writable
    response = client.post("/views", json={"name": "bad", "description": "Bad.", "sql": sql}, headers=auth())
    assert 400 <= response.status_code < 500 and message in response.json()["error"]
    assert client.get("/views/bad").status_code == 404
    assert client.get("/query", params={"sql": "SELECT count(*) FROM images"}).json()["rows"][0][0] > 100


def test_tag_and_snapshot(writable):
    client, _ = writable
    tag = client.post("/tags", json={"item_type": "label", "item_id": 1, "tag": "wrong_class", "author": "ana"},
                      headers=auth())
    assert tag.status_code == 201
    rows = client.get("/query", params={"sql": "SELECT item_id, tag, author FROM tags"}).json()["rows"]
    assert rows == [[1, "wrong_class", "ana"]]
    assert client.post("/tags", json={"item_type": "label", "item_id": 10**9, "tag": "x"}, headers=auth()).status_code == 404
    taken = client.post("/snapshots", json={"view": "digits_of_class", "name": "threes", "params": {"digit": "3"}},
                        headers=auth())
    assert taken.status_code == 201 and taken.json()["key_columns"] == ["image_id"]
    direct = client.get("/views/digits_of_class/rows", params={"digit": "3"}).json()["rows"]
    assert client.get("/snapshots/threes/rows").json()["rows"] == direct
    client.post("/snapshots", json={"view": "digits_of_class", "name": "fives", "params": {"digit": "5"}}, headers=auth())
    diff = client.get("/snapshots/threes/diff/fives", params={"limit": 1000}).json()["rows"]
    assert {r[0] for r in diff} == {"entered", "left"} and len(diff) == len(direct) + len(
        client.get("/snapshots/fives/rows").json()["rows"])


def test_auth_token_guards_every_endpoint(project, tmp_path):
    copy = tmp_path / "guarded.duckdb"
    shutil.copyfile(project["db"], copy)
    app = create_app(Settings(database=copy, auth_token="reader"))
    with TestClient(app) as client:
        for url in ("/", "/tables", "/openapi.json", "/docs", "/query?sql=SELECT%201"):
            assert client.get(url).status_code == 401
            assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/tables", headers=auth("reader")).status_code == 200


def test_writable_server_still_refuses_statements(writable):
    client, path = writable
    for sql in ("DROP TABLE images", "CREATE TABLE t AS SELECT 1", "SELECT * FROM read_csv('/etc/passwd')"):
        assert 400 <= client.post("/query", json={"sql": sql}).status_code < 500
    assert client.get("/query", params={"sql": "SELECT count(*) FROM images"}).json()["rows"][0][0] > 100


def test_parameter_defaults_are_checked_like_queries(writable):
    client, _ = writable
    for default in ("(SELECT count(*) FROM read_csv('/etc/passwd'))", "nextval('tag_id_seq')"):
        body = {"name": "sneaky", "description": "Sneaky.", "sql": "SELECT path FROM images WHERE width > w",
                "parameters": [{"name": "w", "type": "INTEGER", "default": default}]}
        response = client.post("/views", json=body, headers=auth())
        assert response.status_code == 403, response.text
    assert client.get("/views/sneaky").status_code == 404


def test_the_remembered_verdicts_follow_the_relations(writable):
    client, _ = writable
    sql = "SELECT count(*) AS n FROM tall_digits"
    assert client.post("/query", json={"sql": sql}).status_code == 403  # no such relation yet
    body = {"name": "tall_digits", "description": "Digit images at least 32 tall.",
            "sql": "SELECT image_id FROM images WHERE dataset = 'digits' AND height >= 32"}
    assert client.post("/views", json=body, headers=auth()).status_code == 201
    assert client.post("/query", json={"sql": sql}).json()["rows"] == [[120]]
    assert client.delete("/views/tall_digits", headers=auth()).json()["deleted"]
    assert client.post("/query", json={"sql": sql}).status_code == 403  # passed before, refused again
