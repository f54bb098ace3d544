"""`qmdb serve --workers N` runs N processes, each holding its own read-only connection to the file."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qmdb.server.background import free_port


def _holders(pid: int, path: Path) -> set[int]:
    """Processes under `pid` (itself included) with `path` open, read from /proc."""
    target, found, todo = str(path.resolve()), set(), [pid]
    while todo:
        current = todo.pop()
        try:
            if any(os.path.realpath(f"/proc/{current}/fd/{fd}") == target for fd in os.listdir(f"/proc/{current}/fd")):
                found.add(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(child) for child in children)
    return found


def _first_answer(client: httpx.Client, deadline: float) -> dict:
    """GET / once the workers listen (they open the file before they start listening)."""
    while True:
        try:
            return client.get("/").json()
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_two_workers_each_open_the_file_and_answer(project):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "qmdb.cli", "serve", str(project["db"]), "--port", str(port),
                               "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_holders(server.pid, project["db"])) < 2 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        holders = _holders(server.pid, project["db"])
        assert len(holders) == 2 and server.pid not in holders, server.stderr.read1().decode() if server.poll() is not None else holders
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            info = _first_answer(client, deadline)
            answers = [client.get("/views/digits_of_class/rows", params={"digit": "7"}, headers={"Connection": "close"})
                       for _ in range(8)]
        assert all(a.status_code == 200 for a in answers) and info["read_only"]
        assert len({a.content for a in answers}) == 1 and answers[0].json()["rows"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_writes_refuse_more_than_one_worker(project):
    run = subprocess.run([sys.executable, "-m", "qmdb.cli", "serve", str(project["db"]), "--workers", "2",
                          "--allow-writes", "--token", "t"], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "--workers 1" in run.stderr
