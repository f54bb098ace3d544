"""Selection views on real digits: uncertainty, balanced and stratified samples, broken images, duplicates, outliers."""

import numpy as np
import pyarrow as pa
from sklearn.neighbors import NearestNeighbors

import qmdb
from qmdb import views

from .conftest import digits, project


def test_uncertainty_scores_match_numpy_and_find_the_model_errors():
    X, y, probs = digits()
    con = project(embeddings=False)
    top = np.sort(probs, axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(probs > 0, probs * np.log2(probs), 0), axis=1)
    expected = {"least_confidence": 1 - top[:, 0], "margin": 1 - (top[:, 0] - top[:, 1]), "entropy": entropy}
    for strategy, score in expected.items():
        rows = qmdb.run_view(con, "select_uncertain", strategy=strategy, limit_rows=len(X)).fetchall()
        ids = np.array([r[1] for r in rows]) - 1
        assert np.allclose([r[5] for r in rows], score[ids], atol=1e-9)
        wrong = probs.argmax(axis=1) != y
        assert wrong[ids[:100]].mean() > 5 * wrong.mean()  # the most uncertain images are the misclassified ones


def test_uncertain_hides_reviewed_and_limits():
    con = project(embeddings=False)
    first = qmdb.run_view(con, "select_uncertain", limit_rows=5).fetchall()
    assert len(first) == 5
    qmdb.tag(con, "image", first[0][1], "reviewed")
    assert first[0][1] not in [r[1] for r in qmdb.run_view(con, "select_uncertain", limit_rows=5).fetchall()]


def test_balanced_sample():
    _, y, _ = digits()
    con = project(embeddings=False)
    con.execute("DELETE FROM labels WHERE class = '3' AND label_id % 4 <> 0")  # make class 3 rare
    rows = qmdb.run_view(con, "select_balanced", n_per_class=60).fetchall()
    per_class = {c: sum(r[1] == c for r in rows) for c in map(str, range(10))}
    assert per_class.pop("3") == con.sql("SELECT count(*) FROM labels WHERE class = '3'").fetchall()[0][0] < 60
    assert set(per_class.values()) == {60}
    other = qmdb.run_view(con, "select_balanced", n_per_class=60, sample_seed=1).fetchall()
    assert {r[2] for r in other} != {r[2] for r in rows}


def test_stratified_by_metric_bins():
    X, _, _ = digits()
    con = project(embeddings=False)
    brightness = pa.table({"image_id": np.arange(1, len(X) + 1), "brightness": X.mean(axis=1),
                           "is_dark": X.mean(axis=1) < 0.2})
    con.execute("CREATE TABLE IF NOT EXISTS image_metrics (image_id BIGINT PRIMARY KEY, brightness DOUBLE, is_dark BOOLEAN)")
    con.execute("DELETE FROM image_metrics")
    # the columns the metric runner writes; `versions` (when present) records which metric versions a row holds
    has_versions = "versions" in [c for (c,) in con.sql("SELECT column_name FROM information_schema.columns "
                                                        "WHERE table_name = 'image_metrics'").fetchall()]
    con.execute("INSERT INTO image_metrics (image_id, brightness, is_dark" + (", versions" if has_versions else "")
                + ") SELECT *" + (", MAP {'brightness': 1}" if has_versions else "") + " FROM brightness")
    views.install(con)
    rows = qmdb.run_view(con, "select_stratified", metric_name="brightness", n_bins=5, n_per_bin=10).fetchall()
    bins = np.bincount([r[0] for r in rows], minlength=5)
    counts = np.histogram(X.mean(axis=1), bins=5)[0]
    assert (bins == np.minimum(counts, 10)).all()
    values = np.array([r[4] for r in rows])
    assert values.min() == X.mean(axis=1).min()  # the rare extreme images are all in the sample


def test_broken_and_exact_duplicates():
    con = project(embeddings=False)
    con.execute("UPDATE images SET status = 'unreadable' WHERE image_id = 3")
    con.execute("INSERT INTO errors (dataset, image_id, file, stage, message) VALUES ('digits', 5, 'x.png', 'metrics', 'truncated')")
    con.execute("INSERT INTO errors (dataset, image_id, file, stage, message) VALUES "
                "('digits', 6, 'y.png', 'embed', 'builtin-hog-v1: label 12: box outside the image')")  # the image is fine
    con.execute("UPDATE images SET sha256 = CASE WHEN image_id IN (7, 9, 11) THEN 'aa' ELSE md5(path) END")
    assert [(r[0], r[4]) for r in qmdb.run_view(con, "select_broken").fetchall()] == [(3, "unreadable"), (5, "metrics: truncated")]
    assert [(r[0], r[1]) for r in qmdb.run_view(con, "select_exact_duplicates").fetchall()] == [(9, 7), (11, 7)]


def test_near_duplicates_and_outliers():
    X, _, _ = digits()
    con = project(embeddings=False)
    distance, index = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    n = len(X)
    knn = pa.table({"item_id": np.repeat(np.arange(1, n + 1), 5), "neighbor_id": index[:, 1:].ravel() + 1,
                    "rank": np.tile(np.arange(1, 6, dtype=np.int32), n), "distance": distance[:, 1:].ravel()})
    con.execute("CREATE TABLE IF NOT EXISTS neighbors (item_type VARCHAR, model VARCHAR, item_id BIGINT, "
                "neighbor_id BIGINT, rank INTEGER, distance DOUBLE)")
    con.execute("INSERT INTO neighbors (item_type, model, item_id, neighbor_id, rank, distance) "
                "SELECT 'image', 'pixels', * FROM knn")
    views.install(con)
    threshold = float(np.quantile(distance[:, 1], 0.05))  # the closest 5% of pairs
    close = (distance[:, 1:] <= threshold) & (index[:, 1:] < np.arange(n)[:, None])
    expected = {(i + 1, int(index[i, 1:][close[i]].min()) + 1) for i in np.flatnonzero(close.any(axis=1))}
    found = {(r[1], r[2]) for r in qmdb.run_view(con, "select_near_duplicates", max_distance=threshold).fetchall()}
    assert len(expected) > 10 and found == expected
    outliers = qmdb.run_view(con, "select_outliers", min_zscore=3.0).fetchall()
    isolation = distance[:, 1:].mean(axis=1)
    assert outliers and outliers[0][1] == int(isolation.argmax()) + 1
