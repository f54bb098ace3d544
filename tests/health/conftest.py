import pytest

import qmdb
from qmdb.health import synthetic


@pytest.fixture(scope="session")
def photo_project(tmp_path_factory):
    """Real photos (scikit-learn's, scikit-image's) and faulty copies of them, imported with their metrics."""
    from qmdb.health import agreement

    folder = tmp_path_factory.mktemp("health-photos")
    con, root = agreement.build(folder, folder / "photos.duckdb")
    yield con, root
    con.close()


@pytest.fixture
def planted():
    """A synthetic project of 3,000 images with copies across splits, a darkened and blurred subset and
    class c3 missing from test; returns (connection, planted ids)."""
    con = qmdb.connect()
    ids = synthetic.project(con, 3000, seed=1, copies=25, degraded=40, drop_class="c3")
    yield con, ids
    con.close()


@pytest.fixture
def clean():
    """The same generator with nothing planted: the control."""
    con = qmdb.connect()
    synthetic.project(con, 3000, seed=2)
    yield con
    con.close()
