"""What only a real `qmdb serve` process shows: its memory ceiling, its shutdown, streams that are
never cut silently, and settings that reach worker processes without their tokens in the environment."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qmdb.server.background import free_port

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")

SLOW = "SELECT count(*) FROM range(1000000) a(x), range(1000000) b(y) WHERE hash(x + y) = 7"


def _status(pid: int, field: str) -> int:
    """A field of /proc/PID/status in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Served:
    def __init__(self, database: Path, *options: str):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "qmdb.cli", "serve", str(database), "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.client.get("/")
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.process.stderr.read().decode()[-2000:])
                time.sleep(0.2)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def served(project):
    started = []

    def start(*options: str) -> Served:
        started.append(Served(project["db"], *options))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_one_request_cannot_take_the_process_past_its_memory_ceiling(served):
    server = served("--memory-limit", "256MB", "--max-memory", "1GB", "--timeout", "20")
    begun = time.monotonic()
    for sql in ("SELECT repeat('x', 2000000000) AS s", "SELECT length(repeat('x', 1500000000)) AS n",
                "SELECT list(repeat('y', 1000)) FROM range(2000000)"):
        response = server.client.post("/query", json={"sql": sql})
        assert response.status_code == 503, (sql, response.status_code, response.text[:300])
        assert "memory" in response.json()["error"].lower()
    assert time.monotonic() - begun < 3 * (20 + 2)
    assert _status(server.process.pid, "VmHWM") < 1.1 * 1e9
    assert server.client.get("/query", params={"sql": "SELECT 41 + 1 AS answer"}).json()["rows"] == [[42]]


def test_shutdown_interrupts_running_work_and_exits_within_seconds(served):
    server = served("--timeout", "120", "--shutdown-timeout", "1")
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as other:
        import threading

        threading.Thread(target=lambda: _swallow(other.post, "/query", json={"sql": SLOW}), daemon=True).start()
        time.sleep(1.5)
        begun = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
    assert time.monotonic() - begun < 8


def _swallow(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except httpx.HTTPError:
        pass


def test_a_stream_cut_by_the_time_limit_is_an_unfinished_transfer(served):
    server = served("--timeout", "2")
    with pytest.raises(httpx.RemoteProtocolError):
        server.client.post("/query", json={"sql": "SELECT * FROM range(1000000) a(x), range(1000000) b(y)",
                                           "format": "csv"})
    assert server.client.get("/query", params={"sql": "SELECT 1 AS one"}).status_code == 200


def test_a_stream_carries_every_row_past_the_json_row_cap(served):
    server = served("--max-rows", "1000")
    response = server.client.post("/query", json={"sql": "SELECT * FROM range(250000) t(x)", "format": "csv"})
    assert response.status_code == 200
    assert len(response.text.strip().splitlines()) == 250_001


def test_workers_get_their_settings_from_a_private_file_not_the_environment(served, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-auth\n")
    server = served("--workers", "2", "--auth-token-file", str(token))
    assert server.client.get("/", headers={"Authorization": "Bearer s3cret-auth"}).status_code == 200
    workers = _children(server.process.pid)
    assert workers
    for pid in [server.process.pid, *workers]:
        assert "s3cret-auth" not in Path(f"/proc/{pid}/cmdline").read_text()
        environment = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        assert "s3cret-auth" not in environment
    (path,) = [v.partition("=")[2] for v in environment.split("\0") if v.startswith("QMDB_SERVER_SETTINGS_FILE=")]
    assert os.stat(path).st_mode & 0o077 == 0
    server.stop()
    assert not os.path.exists(path)


def _tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its content hash."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("mode", [("--workers", "2"), ("--allow-writes", "--token", "T")], ids=["2-workers", "writes"])
def test_the_adversarial_list_against_real_servers_leaves_every_file_as_it_was(served, project, tmp_path, mode):
    import shutil

    from .test_adversarial import ATTACKS
    from .test_gate import HOST, UNPARSABLE

    folder = tmp_path / "copy"
    folder.mkdir()
    database = folder / project["db"].name
    shutil.copy(project["db"], database)
    server = Served(database, *mode)
    try:
        before = _tree(folder)
        for sql in [a.format(bait=project["bait"]) for a in ATTACKS] + [q for q, _ in HOST] + UNPARSABLE:
            for response in (server.client.post("/query", json={"sql": sql}, headers={"Authorization": "Bearer T"}),
                             server.client.get("/query", params={"sql": sql, "format": "csv"})):
                assert 400 <= response.status_code < 500, (sql, response.status_code, response.text[:200])
                assert str(folder) not in response.text and "hunter2" not in response.text
        assert _tree(folder) == before
    finally:
        server.stop()


def test_a_hundred_concurrent_slow_queries_are_each_answered_in_bounded_time(served):
    from concurrent.futures import ThreadPoolExecutor

    server = served("--timeout", "2", "--max-requests", "8", "--queue-timeout", "1", "--max-memory", "2GB",
                    "--memory-limit", "512MB")

    def ask(_):
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client:
            begun = time.monotonic()
            response = client.post("/query", json={"sql": SLOW})
            return response.status_code, time.monotonic() - begun

    with ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(ask, range(100)))
    assert {status for status, _ in answers} <= {408, 503}, answers
    assert any(status == 503 for status, _ in answers) and any(status == 408 for status, _ in answers)
    assert max(seconds for _, seconds in answers) < 2 + 1 + 10  # a bound (limit + queue), not a speed claim
    assert _status(server.process.pid, "VmHWM") < 2e9
    assert server.client.get("/query", params={"sql": "SELECT 1 AS one"}).status_code == 200


def test_a_memory_ceiling_that_cannot_work_is_one_line(project, capsys):
    from qmdb.cli import main

    for options, message in ((["--max-memory", "1GB", "--memory-limit", "2GB"], "must be above --memory-limit"),
                             (["--max-memory", "lots"], "not a size: 'lots'")):
        assert main(["serve", str(project["db"]), *options]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
