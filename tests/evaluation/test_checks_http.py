"""Slice checks over HTTP: list, results, and a run only in write mode with the token."""

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

import qmdb  # noqa: E402
from qmdb.evaluation import add_check  # noqa: E402
from qmdb.evaluation.synthetic import detection_case  # noqa: E402
from qmdb.server import Settings, create_app  # noqa: E402

from .conftest import load_case  # noqa: E402

TOKEN = "check-secret"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("checks") / "project.duckdb"
    con = qmdb.connect(str(path))
    gt, dt, images = detection_case(seed=5, n_images=40, boxes_per_image=5, n_classes=3)
    load_case(con, gt, dt, images, 3)
    qmdb.evaluate(con, "det-model", progress=False)
    add_check(con, "recall_floor", "recall", threshold=0.2)
    add_check(con, "ap_ceiling", "ap50", slice="image_id % 2 = 0", threshold=0.99)   # fails
    con.close()
    return path


def test_run_needs_write_mode_and_the_token_and_records_results(database):
    with TestClient(create_app(Settings(database=database))) as client:
        names = [c["name"] for c in client.get("/checks").json()["checks"]]
        assert names == ["ap_ceiling", "recall_floor"]
        assert client.post("/checks/run", json={}).status_code == 403
        assert client.get("/checks/results").json() == {"results": []}
    app = create_app(Settings(database=database, allow_writes=True, write_token=TOKEN, timeout=30))
    with TestClient(app) as client:
        assert client.post("/checks/run", json={}).status_code == 401
        answer = client.post("/checks/run", json={"run": "first", "junit": True, "n_boot": 20},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["passed"] is False
        assert {r["check_name"]: r["status"] for r in body["results"]} == {"ap_ceiling": "fail", "recall_floor": "pass"}
        assert "<testsuite" in body["junit"]
        stored = client.get("/checks/results", params={"run": "first"}).json()["results"]
        assert [(r["check_name"], r["status"]) for r in stored] == [("ap_ceiling", "fail"), ("recall_floor", "pass")]
        assert client.get("/checks/results", params={"check": "recall_floor"}).json()["results"][0]["value"] > 0.2
