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


@pytest.fixture(scope="session")
def demo_db(request, tmp_path_factory):
    """The demo project (qmdb.demo.build), built once per test session; its data folder is cached
    in pytest's cache, keyed by the generator version, so later sessions only re-import."""
    from qmdb.demo import build, spec

    key = f"qmdb-demo-data-v{spec.VERSION}-seed{spec.SEED}"
    cache = getattr(request.config, "cache", None)           # absent under -p no:cacheprovider
    data = cache.mkdir(key) if cache is not None else tmp_path_factory.mktemp("demo-data") / key
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build(db, data, say=lambda *_: None)
    return db
