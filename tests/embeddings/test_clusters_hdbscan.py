"""HDBSCAN clusters (`qmdb cluster --method hdbscan`) on real digits: the dense clusters follow the
digit classes, noise is cluster -1, and the table holds what scikit-learn's HDBSCAN returns."""

import numpy as np
import pytest

import qmdb
import qmdb.embeddings.derived
from qmdb.cli import main
from qmdb.embeddings import clusters
from qmdb.errors import QmdbError


def test_hdbscan_clusters_follow_the_digit_classes(digits_project, tmp_path):
    import shutil

    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score

    db = tmp_path / "copy.duckdb"
    shutil.copy(digits_project, db)
    with qmdb.connect(db) as con:  # 600 digits: HDBSCAN's cost grows with n²
        con.execute("DELETE FROM embeddings WHERE item_id NOT IN (SELECT item_id FROM embeddings ORDER BY item_id LIMIT 600)")
    assert main(["cluster", str(db), "--method", "hdbscan", "--min-cluster-size", "15"]) == 0
    con = qmdb.connect(db)
    try:
        rows = con.sql("SELECT c.item_id, c.cluster, c.method, c.distance, l.class FROM clusters c "
                       "JOIN labels l ON l.image_id = c.item_id ORDER BY c.item_id").fetchall()
        found, truth = np.array([r[1] for r in rows]), np.array([r[4] for r in rows])
        assert {r[2] for r in rows} == {"hdbscan"} and len(rows) == 600
        _, ids, vectors = qmdb.embeddings.derived.load(con, None, "image")
        reference = dict(zip(ids.tolist(), HDBSCAN(min_cluster_size=15, copy=True).fit(vectors).labels_.tolist()))
        assert [r[1] for r in rows] == [reference[r[0]] for r in rows]
        dense = found >= 0
        assert 3 <= found.max() + 1 and 0.3 < dense.mean()
        assert adjusted_rand_score(truth[dense], found[dense]) > 0.5
        assert all(0 <= r[3] <= 2 for r in rows)
        assert clusters.materialize(con, method="hdbscan", min_cluster_size=15) == 0  # fresh: nothing to do
        with pytest.raises(QmdbError, match="finds the number of clusters itself"):
            clusters.materialize(con, method="hdbscan", k=10)
        with pytest.raises(QmdbError, match="method must be one of kmeans, hdbscan"):
            clusters.materialize(con, method="dbscan")
    finally:
        con.close()
