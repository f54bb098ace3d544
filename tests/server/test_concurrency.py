"""Many parallel clients against a real uvicorn on 127.0.0.1: no error, every answer right,
and a slow query does not hold up the fast ones."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from qmdb.server.background import serve_in_thread


@pytest.fixture(scope="module")
def base_url(app):
    with serve_in_thread(app) as url:
        yield url


def _requests():
    for digit in range(10):
        yield ("GET", "/views/digits_of_class/rows", {"params": {"digit": str(digit)}})
        yield ("POST", "/query", {"json": {"sql": "SELECT count(*) FROM labels WHERE class = ?", "params": [str(digit)]}})
    yield ("GET", "/views/class_counts/rows", {"params": {"dataset_name": "digits"}})
    yield ("GET", "/tables", {})


def test_parallel_clients_get_correct_answers(base_url):
    with httpx.Client(base_url=base_url) as client:
        expected = {(m, u, repr(k)): client.request(m, u, **k).json() for m, u, k in _requests()}
    jobs = [request for _ in range(6) for request in _requests()]

    with httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=16)) as client:
        def call(job):
            method, url, kwargs = job
            response = client.request(method, url, **kwargs)
            return job, response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(call, jobs))
    assert len(results) == len(jobs) == 6 * 22
    for (method, url, kwargs), status, body in results:
        assert status == 200, body
        assert body == expected[(method, url, repr(kwargs))]


def test_a_slow_query_does_not_stall_the_others(base_url):
    finished = []

    def slow():
        with httpx.Client(base_url=base_url, timeout=30) as client:
            response = client.post("/query", json={
                "sql": "SELECT count(*) FROM range(1000000) a(x), range(1000000) b(y) WHERE hash(x + y) = 7"})
        finished.append(("slow", response.status_code))

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for digit in range(10):
            response = client.get("/views/digits_of_class/rows", params={"digit": str(digit)})
            finished.append(("fast", response.status_code))
    thread.join()
    assert finished[:10] == [("fast", 200)] * 10   # all answered while the slow one still ran
    assert finished[10] == ("slow", 408)            # which was then interrupted
