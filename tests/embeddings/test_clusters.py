"""Clusters and duplicate groups on real digits: k-means finds the digit classes, components find the copies."""

import cv2
import numpy as np
import pytest

import qmdb
from qmdb.cli import main
from qmdb.embeddings import clusters, duplicate_groups

from .conftest import add_dataset, digit_images


def test_kmeans_clusters_follow_the_digit_classes(digits_project, tmp_path):
    from sklearn.metrics import adjusted_rand_score

    con = qmdb.connect(digits_project)
    try:
        assert clusters.materialize(con, k=10) == 1797
        assert clusters.materialize(con, k=10) == 0  # same vectors, same parameters: nothing to do
        rows = con.sql("SELECT c.cluster, l.class FROM clusters c JOIN labels l ON l.image_id = c.item_id "
                       "ORDER BY c.item_id").fetchall()
        found, truth = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
        ari = adjusted_rand_score(truth, found)
        assert ari > 0.6, ari
        summary = qmdb.run_view(con, "cluster_summary").fetchall()
        assert len(summary) == 10 and sum(r[4] for r in summary) == 1797
        for (_, _, cluster, method, size, share, labelled, top, purity, classes, _) in summary:
            mine = truth[found == cluster]
            values, counts = np.unique(mine, return_counts=True)
            assert method == "kmeans" and size == labelled == len(mine) and classes == len(values)
            assert top == values[counts.argmax()] and purity == pytest.approx(counts.max() / len(mine))
        assert np.mean([r[8] for r in summary]) > 0.7
    finally:
        con.close()


def test_clusters_recompute_when_vectors_change(digits_project, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(digits_project, db)
    con = qmdb.connect(db)
    try:
        clusters.materialize(con, k=5)
        con.execute("DELETE FROM embeddings WHERE item_id <= 10")
        assert clusters.materialize(con, k=5) == 1787
        assert con.sql("SELECT count(*) FROM clusters WHERE item_id <= 10").fetchall() == [(0,)]
    finally:
        con.close()


def test_components_chain_pairs():
    a, b = np.array([5, 1, 2, 7]), np.array([6, 2, 3, 8])
    assert duplicate_groups.components(10, a, b).tolist() == [0, 1, 1, 1, 4, 5, 5, 7, 7, 9]


def test_duplicate_groups_contain_the_copies_and_keep_the_largest(tmp_path, capsys):
    images, target = digit_images()
    images, target = images[:300], target[:300]
    rng = np.random.default_rng(0)
    originals = rng.choice(300, 12, replace=False)
    copies = []
    for number in originals:  # each original gets an upscaled copy and a brightened copy of that copy
        big = cv2.resize(images[number], (64, 64), interpolation=cv2.INTER_LINEAR)
        copies += [big, np.clip(big.astype(int) + 12, 0, 255).astype(np.uint8)]
    db = tmp_path / "dups.duckdb"
    con = qmdb.connect(db)
    add_dataset(con, tmp_path, "digits", images + copies)
    con.execute("UPDATE images SET file_size = width * height")
    qmdb.embed(con, progress=False)
    con.close()
    assert main(["cluster", str(db), "--no-kmeans", "--duplicates-within", "0.02"]) == 0
    con = qmdb.connect(db)
    try:
        groups = con.sql("SELECT group_id, list(item_id ORDER BY item_id), list(item_id) FILTER (WHERE keep), "
                         "any_value(group_size) FROM duplicate_groups GROUP BY group_id").fetchall()
        ids = {r[0] for r in con.sql("SELECT image_id FROM images").fetchall()}
        assert len(ids) == 324
        expected = [sorted([int(o) + 1, 301 + 2 * k, 302 + 2 * k]) for k, o in enumerate(originals)]
        found = [members for _, members, _, _ in groups]
        for members in expected:  # the original and both copies, the first copy kept (most pixels, lowest id)
            group = [g for g in groups if set(members) <= set(g[1])]
            assert len(group) == 1 and group[0][0] == members[1], (members, group)
        for group_id, members, kept, size in groups:
            assert len(kept) == 1 and kept[0] == group_id and size == len(members)
        view = qmdb.run_view(con, "dup_groups").fetchall()
        assert len(view) == sum(len(m) for m in found) and view[0][3] == max(len(m) for m in found)
    finally:
        con.close()


def test_cluster_eval_is_recall_per_cluster_and_cluster_metrics_the_means(digits_project, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(digits_project, db)
    con = qmdb.connect(db)
    try:
        clusters.materialize(con, k=6)
        # a classifier that finds exactly the labels of classes 0 and 1 (score 0.9), misses the rest
        con.execute("INSERT INTO matches (model, threshold, item_type, image_id, class, label_id, score, outcome, ignored) "
                    "SELECT 'm', NULL, 'label', image_id, class, label_id, 0.9, "
                    "CASE WHEN class IN ('0', '1') THEN 'TP' ELSE 'FN' END, false FROM labels")
        con.execute("INSERT INTO image_metrics (image_id, brightness, versions) SELECT image_id, image_id / 1797.0, MAP {'brightness': 1} FROM images")
        rows = con.sql("SELECT c.cluster, l.class, c.item_id FROM clusters c JOIN labels l ON l.image_id = c.item_id").fetchall()
        cluster = np.array([r[0] for r in rows])
        hit = np.isin([r[1] for r in rows], ["0", "1"])
        ids = np.array([r[2] for r in rows])
        evals = {r[2]: r for r in qmdb.run_view(con, "cluster_eval", model_name="m").fetchall()}
        assert set(evals) == set(range(6))
        for c, r in evals.items():
            assert r[3] == (cluster == c).sum() and r[5] == pytest.approx(hit[cluster == c].mean())
            assert r[12] == pytest.approx(hit[cluster == c].mean() - hit.mean())
        means = {r[1]: r[4] for r in qmdb.run_view(con, "cluster_metrics").fetchall() if r[2] == "brightness"}
        for c in range(6):
            assert means[c] == pytest.approx((ids[cluster == c] / 1797.0).mean())
    finally:
        con.close()
