"""Annotation quality by neighbours: flipped labels disagree with their nearest neighbours."""

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

import qmdb
from qmdb import views

from qmdb.label_errors import load_classification

from .conftest import CLASSES, noisy_digits, project

K = 10


def _with_neighbors(mode: str, rate: float):
    """The noisy digits with a `neighbors` table from a real kNN over the pixels (contract of qmdb.embeddings)."""
    X, y, given, _ = noisy_digits(mode, rate)
    con = project(mode, rate)
    distance, index = NearestNeighbors(n_neighbors=K + 1).fit(X).kneighbors(X)
    n = len(X)
    knn = pa.table({  # image ids are 1..n in image order; drop each image itself (column 0)
        "item_id": np.repeat(np.arange(1, n + 1), K), "neighbor_id": index[:, 1:].ravel() + 1,
        "rank": np.tile(np.arange(1, K + 1, dtype=np.int32), n), "distance": distance[:, 1:].ravel()})
    con.execute("CREATE TABLE IF NOT EXISTS neighbors (item_type VARCHAR, model VARCHAR, item_id BIGINT, "
                "neighbor_id BIGINT, rank INTEGER, distance DOUBLE)")
    con.execute("INSERT INTO neighbors (item_type, model, item_id, neighbor_id, rank, distance) "
                "SELECT 'image', 'pixels-knn', item_id, neighbor_id, rank, distance FROM knn")
    views.install(con)
    return con, y, given


def test_neighbour_score_ranks_flipped_labels_first():
    con, y, given = _with_neighbors("symmetric", 0.10)
    rows = qmdb.run_view(con, "errors_neighbors", k_neighbors=K).fetchall()
    score = np.zeros(len(y))
    score[[r[1] - 1 for r in rows]] = [r[9] for r in rows]
    auroc = roc_auc_score(given != y, score)
    assert auroc >= 0.9, auroc
    unanimous = [r for r in rows if r[9] == 1.0]  # every neighbour disagrees: their class is mostly the truth
    assert len(unanimous) > 50
    assert np.mean([int(r[7]) == y[r[1] - 1] for r in unanimous]) > 0.8


def test_noisy_annotator_and_class_stand_out():
    con, y, given = _with_neighbors("class_conditional", 0.10)
    # three annotators; 'cy' labelled every flipped image among others
    con.execute("UPDATE labels SET annotator = CASE WHEN label_id IN (SELECT label_id FROM label_truth) "
                "OR label_id % 3 = 0 THEN 'cy' WHEN label_id % 3 = 1 THEN 'ana' ELSE 'ben' END")
    annotators = qmdb.run_view(con, "errors_by_annotator", k_neighbors=K).fetchall()
    assert annotators[0][1] == "cy" and annotators[0][5] > 2 * annotators[1][5]
    classes = qmdb.run_view(con, "errors_by_class", k_neighbors=K).fetchall()
    flip_rate = np.bincount(given[given != y], minlength=10) / np.bincount(given, minlength=10)
    # classes rank by suspect share much as they rank by their true flip rate
    assert spearmanr([r[6] for r in classes], [flip_rate[int(r[2])] for r in classes]).statistic > 0.6


@pytest.mark.slow
def test_builtin_embedder_neighbour_score(tmp_path):
    """The same score with qmdb's own offline embedder (qmdb.embed) on the digit images written as PNG files."""
    X, y, given, probs = noisy_digits("symmetric", 0.10)
    n = 500
    paths = [f"{i:04d}.png" for i in range(n)]
    for path, pixels in zip(paths, X[:n].reshape(-1, 8, 8)):
        Image.fromarray((pixels * 255 / 16).astype(np.uint8)).resize((32, 32), Image.BILINEAR).save(tmp_path / path)
    con = qmdb.connect()
    load_classification(con, dataset="digits", model="digits-lda", root=str(tmp_path), paths=paths,
                        given=given[:n], probs=probs[:n], class_names=CLASSES, truth=y[:n])
    qmdb.embed(con, neighbors=K, progress=False, workers=1)
    rows = qmdb.run_view(con, "errors_neighbors", k_neighbors=K).fetchall()
    assert rows and rows[0][0].startswith("builtin")
    score = np.zeros(n)
    score[[r[1] - 1 for r in rows]] = [r[9] for r in rows]
    assert roc_auc_score(given[:n] != y[:n], score) >= 0.9


def test_reason_names_the_class_the_disagreeing_neighbours_carry():
    """A label '1' whose 10 neighbours are six '1' and four '7': the other class is 7, never its own."""
    con = qmdb.connect()
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('d', '.', 'folders')")
    classes = ["1"] + ["1"] * 6 + ["7"] * 4 + ["3"]
    con.execute("INSERT INTO images (image_id, dataset, path) SELECT i, 'd', i || '.png' FROM range(1, 13) t(i)")
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT i + 1, c, 'folder' FROM "
                "(SELECT unnest(?) AS c, generate_subscripts(?, 1) - 1 AS i)", [classes, classes])
    con.execute("CREATE TABLE IF NOT EXISTS neighbors (item_type VARCHAR, model VARCHAR, item_id BIGINT, "
                "neighbor_id BIGINT, rank INTEGER, distance DOUBLE)")
    con.execute("INSERT INTO neighbors SELECT 'image', 'm', 1, n + 1, n, n FROM range(1, 11) t(n)")   # image 1: 2..11
    con.execute("INSERT INTO neighbors SELECT 'image', 'm', 2, n, n - 1, n FROM range(3, 8) t(n)")    # image 2: all '1'
    views.install(con)
    result = qmdb.run_view(con, "errors_neighbors")
    rows = {r[result.columns.index("image_id")]: dict(zip(result.columns, r)) for r in result.fetchall()}
    assert rows[1]["neighbour_class"] == "7" and rows[1]["score"] == pytest.approx(0.4)
    assert rows[1]["reason"] == "4 of its 10 nearest labels are not 1 (most of those are 7)"
    assert rows[2]["score"] == 0 and rows[2]["reason"] == "all 5 of its nearest labels are 1"
