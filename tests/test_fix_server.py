"""The server's write mode accepts fixes and undoes batches, with the write token only."""

import shutil

import pytest
from fastapi.testclient import TestClient

from qmdb.server import Settings, create_app

TOKEN = "fix-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(demo_db, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fix-server")
    for suffix in ("", ".wal"):
        if (source := demo_db.parent / f"{demo_db.name}{suffix}").exists():
            shutil.copy(source, tmp_path / f"demo.duckdb{suffix}")
    app = create_app(Settings(database=tmp_path / "demo.duckdb", allow_writes=True, write_token=TOKEN, timeout=10))
    with TestClient(app) as test_client:
        yield test_client


def count(client, sql):
    return client.get("/query", params={"sql": sql}).json()["rows"][0]


def test_fix_over_http(client):
    body = {"view": "errors_classification", "min_score": 0.99, "limit": 2, "author": "web"}
    assert client.post("/fix", json=body).status_code == 401
    dry = client.post("/fix", json={**body, "dry_run": True}, headers=AUTH).json()
    assert dry["count"] == 2 and dry["batch_id"] is None
    done = client.post("/fix", json=body, headers=AUTH)
    assert done.status_code == 200, done.text
    batch = done.json()["batch_id"]
    assert [c["item_id"] for c in done.json()["changes"]] == [c["item_id"] for c in dry["changes"]]
    versions = client.get("/query", params={"sql": f"SELECT source, author FROM label_versions WHERE batch_id = {batch}"})
    assert versions.json()["rows"] == [["errors_classification", "web"]] * 2
    assert client.post(f"/batches/{batch}/undo", json={"author": "web"}, headers=AUTH).json()["undone_by"] > batch
    again = client.post(f"/batches/{batch}/undo", headers=AUTH)
    assert again.status_code == 400 and "already undone" in again.json()["error"]


@pytest.mark.parametrize("where", ["read_text('/etc/passwd') IS NOT NULL", "1 = 1; DELETE FROM labels"])
def test_fix_refuses_an_unsafe_condition(client, where):
    response = client.post("/fix", json={"view": "errors_bad_boxes", "where": where}, headers=AUTH)
    assert response.status_code == 403, response.text
    assert response.json()["error"].startswith("refused: ")
