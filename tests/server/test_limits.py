"""Every request is bounded: parameters that size Python work have maxima (4xx beyond, before any
work), bodies have a size limit, and requests in flight a limit (then 503 with Retry-After)."""

import shutil
import threading
import time

import duckdb
import pytest
from fastapi.testclient import TestClient

from qmdb.errors import QmdbError
from qmdb.server import Settings, create_app

HUGE = 1_000_000_000


@pytest.mark.parametrize("kind, params", [
    ("histogram", {"metric": "brightness", "bins": HUGE}),
    ("by-metric", {"metric": "brightness", "bins": HUGE}),
    ("importance", {"bins": HUGE}),
    ("importance", {"top": HUGE}),
    ("histogram", {"metric": "brightness", "bins": 0}),
])
def test_plot_sizes_have_a_maximum(client, kind, params):
    pytest.importorskip("matplotlib")
    response = client.get(f"/gallery/plots/{kind}.svg", params=params)
    assert response.status_code == 400, response.text
    assert "must be between 1 and 1000" in response.json()["error"]


def test_the_bound_is_where_the_work_is():
    pytest.importorskip("matplotlib")
    from qmdb.plots.by_metric import by_metric_data
    from qmdb.plots.histogram import plot_histogram
    from qmdb.plots.importance import importance_data

    con = duckdb.connect()
    for call in (lambda: plot_histogram(con, "brightness", None, bins=HUGE),
                 lambda: by_metric_data(con, "brightness", bins=HUGE),
                 lambda: importance_data(con, top=HUGE)):
        with pytest.raises(QmdbError, match="between 1 and 1000"):
            call()


@pytest.mark.parametrize("route", ["/views/eval_by_metric/rows", "/gallery/items"])
def test_view_bins_have_a_maximum(client, route):
    body = {"params": {"metric_name": "brightness", "bins": 2_000_000_000}}
    if route == "/gallery/items":
        body["view"] = "eval_by_metric"
    response = client.post(route, json=body)
    assert response.status_code == 400, response.text
    assert "bins must be at most 1000" in response.json()["error"]
    response = client.get("/views/eval_by_metric/rows", params={"metric_name": "brightness", "bins": HUGE})
    assert response.status_code == 400 and "at most 1000" in response.json()["error"]


def test_similarity_k_has_a_maximum(client):
    response = client.post("/query", json={"sql": "SELECT * FROM similar_images(1, k := 100000000)"})
    assert response.status_code == 400, response.text
    assert "10000" in response.json()["error"]


def test_a_body_over_the_limit_is_413(client):
    big = "SELECT 1 AS x -- " + "x" * 2_000_000
    response = client.post("/query", json={"sql": big})
    assert response.status_code == 413 and "1000000 bytes" in response.json()["error"]

    def chunks():  # no Content-Length: counted while it arrives
        yield b'{"sql": "SELECT 1 -- '
        for _ in range(30):
            yield b"x" * 65_536
        yield b'"}'

    response = client.post("/query", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text


def test_requests_past_the_limit_wait_then_get_503(project, tmp_path):
    copy = tmp_path / "busy.duckdb"
    shutil.copyfile(project["db"], copy)
    app = create_app(Settings(database=copy, timeout=1.5, max_requests=1, queue_timeout=0.3))
    slow = "SELECT count(*) FROM range(100000000000) a(x) WHERE x % 7 = 3"
    answers = []
    with TestClient(app) as client:
        def ask():
            answers.append(client.post("/query", json={"sql": slow}))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        busy = [r for r in answers if r.status_code == 503]
        assert busy and all(r.headers["retry-after"] for r in busy), [r.text for r in answers]
        assert {r.status_code for r in answers} <= {408, 503}
        assert elapsed < 1.5 + 10  # answered, not queued without end (a bound, not a speed claim)
        assert client.get("/tables").status_code == 200  # the slot is free again
