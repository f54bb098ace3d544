"""Coreset by k-center greedy: covers the embedding space better than a random pick, from Python and SQL."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import qmdb
from qmdb.errors import QmdbError
from qmdb.selection import k_center_greedy

from .conftest import digits, project


def _radius(X: np.ndarray, picked: np.ndarray) -> float:
    """Covering radius: the largest distance from any point to its nearest picked point."""
    return float(cdist(X, X[picked]).min(axis=1).max())


def test_coreset_covers_better_than_random():
    X, y, _ = digits()
    con = project()
    ids = np.array(qmdb.coreset(con, 50, progress=False))
    assert len(ids) == 50 == len(set(ids.tolist()))
    assert len(set(y[ids - 1])) == 10  # every class is represented
    rng = np.random.default_rng(0)
    random_radii = [_radius(X, rng.choice(len(X), 50, replace=False)) for _ in range(5)]
    assert _radius(X, ids - 1) < 0.9 * min(random_radii)


def test_sql_function_and_view_match_python():
    con = project()
    python = qmdb.coreset(con, 20, progress=False)
    assert con.sql("SELECT coreset(20, NULL, NULL, NULL)").fetchall()[0][0] == python
    rows = qmdb.run_view(con, "select_coreset", n_images=20).fetchall()
    assert [r[1] for r in rows] == python and [r[0] for r in rows] == list(range(1, 21))


def test_candidates_filter_and_earlier_picks():
    X, y, _ = digits()
    con = project()
    sevens = con.sql("SELECT list(image_id) FROM labels WHERE class = '7'").fetchall()[0][0]
    picked = con.sql("SELECT coreset(10, 'pixels', (SELECT list(image_id) FROM labels WHERE class = '7'), NULL)").fetchall()[0][0]
    assert set(picked) <= set(sevens) and len(picked) == 10
    more = qmdb.coreset(con, 10, candidates=sevens, selected=picked, progress=False)
    assert not set(more) & set(picked) and set(more) <= set(sevens)
    mask = np.isin(np.arange(len(X)), np.array(picked) - 1)
    assert k_center_greedy(X, 10, selected=mask)[0] not in set(np.array(picked) - 1)


def test_missing_embeddings_is_a_clear_error():
    con = project(embeddings=False)
    con.execute("CREATE TABLE IF NOT EXISTS embeddings (item_type VARCHAR, item_id BIGINT, model VARCHAR, vector FLOAT[])")
    with pytest.raises(QmdbError, match="no image embeddings"):
        qmdb.coreset(con, 5)
