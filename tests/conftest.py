import contextlib
import fcntl
import os
import shutil
from pathlib import Path

import pytest

import qmdb


@pytest.fixture
def con():
    """A fresh in-memory project."""
    connection = qmdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def db_path(tmp_path):
    """The path of a fresh project file."""
    return tmp_path / "project.duckdb"


@contextlib.contextmanager
def _exclusive(lock: Path):
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_db(request, tmp_path_factory):
    """The demo project (qmdb.demo.build), built once per test run: under pytest-xdist the first worker
    builds it, behind a lock, in the folder the workers share, and every worker gets its own copy (a test
    may open it read-write, which would lock the others out). Its data folder is cached in pytest's
    cache, keyed by the generator version, so later runs only re-import."""
    from qmdb.demo import build, spec

    key = f"qmdb-demo-data-v{spec.VERSION}-seed{spec.SEED}"
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = getattr(request.config, "cache", None)           # absent under -p no:cacheprovider
    data = cache.mkdir(key) if cache is not None else shared / key
    built = shared / "qmdb-demo" / "demo.duckdb"
    with _exclusive(shared / "qmdb-demo.lock"):
        if not built.with_suffix(".done").exists():
            built.parent.mkdir(exist_ok=True)
            build(built, data, say=lambda *_: None)
            built.with_suffix(".done").touch()
    if shared == base:
        return built
    mine = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    for suffix in ("", ".wal"):
        if Path(f"{built}{suffix}").exists():
            shutil.copy(f"{built}{suffix}", f"{mine}{suffix}")
    return mine
