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
