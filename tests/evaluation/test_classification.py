"""The classification path on real digits: top-1 against the label, probabilities kept."""

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_score, recall_score
from sklearn.model_selection import cross_val_predict

import qmdb


@pytest.fixture(scope="module")
def digits():
    """600 real digit images, labels, and a logistic regression's out-of-fold probabilities."""
    x, y = load_digits(return_X_y=True)
    x, y = x[:600], y[:600]
    probs = cross_val_predict(LogisticRegression(max_iter=300), x / 16, y, cv=3, method="predict_proba")
    return y, probs


@pytest.fixture(scope="module")
def project(digits):
    y, probs = digits
    con = qmdb.connect()
    n = len(y)
    names = np.array([str(k) for k in range(10)], dtype=object)
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES ('digits', '.', 'folders', 'classification')")
    con.register("_i", pa.table({"image_id": np.arange(1, n + 1), "dataset": ["digits"] * n,
                                 "path": [f"{i}.png" for i in range(n)]}))
    con.execute("INSERT INTO images BY NAME SELECT * FROM _i")
    con.register("_l", pa.table({"label_id": np.arange(1, n + 1), "image_id": np.arange(1, n + 1),
                                 "class": names[y], "source_id": names[y]}))
    con.execute("INSERT INTO labels BY NAME SELECT * FROM _l")
    top = probs.argmax(1)
    con.register("_p", pa.table({
        "prediction_id": np.arange(1, n + 1), "model": ["logreg"] * n, "image_id": np.arange(1, n + 1),
        "class": names[top], "score": probs.max(1), "source_id": [str(i) for i in range(n)],
        "probs": pa.array([list(zip(names, p)) for p in probs], pa.map_(pa.string(), pa.float64())),
    }))
    con.execute("INSERT INTO models (model, task, dataset) VALUES ('logreg', 'classification', 'digits')")
    con.execute("INSERT INTO predictions BY NAME SELECT * FROM _p")
    yield con, y, probs
    con.close()


def test_accuracy_precision_recall_equal_sklearn(project):
    con, y, probs = project
    report = qmdb.evaluate(con, "logreg", progress=False)
    top = probs.argmax(1)
    assert report.task == "classification"
    assert report.stats["accuracy"] == pytest.approx(accuracy_score(y, top))
    (accuracy,) = con.sql("SELECT accuracy FROM eval_summary").fetchall()[0]
    assert accuracy == pytest.approx(accuracy_score(y, top))
    rows = con.sql("SELECT class, precision, recall FROM eval_per_class() ORDER BY class").fetchall()
    np.testing.assert_allclose([r[1] for r in rows], precision_score(y, top, average=None))
    np.testing.assert_allclose([r[2] for r in rows], recall_score(y, top, average=None))


def test_label_score_is_the_probability_of_the_labeled_class(project):
    con, y, probs = project
    qmdb.evaluate(con, "logreg", progress=False)
    got = con.sql("SELECT label_score FROM matches WHERE item_type = 'label' ORDER BY label_id").fetchnumpy()["label_score"]
    np.testing.assert_allclose(got, probs[np.arange(len(y)), y])


def test_confusion_matrix_is_sklearns(project):
    con, y, probs = project
    qmdb.evaluate(con, "logreg", progress=False)
    from sklearn.metrics import confusion_matrix

    expected = confusion_matrix(y, probs.argmax(1))
    rows = con.sql("SELECT true_class, predicted_class, count FROM eval_confusion(min_score := 0.0)").fetchall()
    got = np.zeros((10, 10), dtype=int)
    for t, p, n in rows:
        got[int(t), int(p)] = n
    np.testing.assert_array_equal(got, expected)


def test_calibration_equals_sklearn_calibration_curve(project):
    from sklearn.calibration import calibration_curve

    con, y, probs = project
    qmdb.evaluate(con, "logreg", progress=False)
    confidence, correct = probs.max(1), (probs.argmax(1) == y).astype(int)
    for n_bins in (10, 7):
        prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
        rows = con.sql("SELECT bin, n, accuracy, confidence, ece, accuracy_low, accuracy_high "
                       "FROM eval_calibration('logreg', n_bins := ?)", params=[n_bins]).fetchall()
        np.testing.assert_allclose([r[2] for r in rows], prob_true, rtol=0, atol=1e-12)
        np.testing.assert_allclose([r[3] for r in rows], prob_pred, rtol=0, atol=1e-12)
        assert sum(r[1] for r in rows) == len(y)
        counts = np.array([r[1] for r in rows])
        ece = float(np.sum(counts / len(y) * np.abs(prob_true - prob_pred)))
        assert all(abs(r[4] - ece) < 1e-12 for r in rows)
        assert all(lo - 1e-12 <= acc <= hi + 1e-12 for _, _, acc, _, _, lo, hi in rows)


def test_top_k_accuracy_equals_sklearn(project):
    from sklearn.metrics import top_k_accuracy_score

    con, y, probs = project
    qmdb.evaluate(con, "logreg", progress=False)
    rows = con.sql("SELECT k, accuracy FROM eval_topk('logreg', max_k := 4)").fetchall()
    assert [k for k, _ in rows] == [1, 2, 3, 4]
    for k, accuracy in rows:
        assert accuracy == pytest.approx(top_k_accuracy_score(y, probs, k=k, labels=np.arange(10)), abs=1e-12)
    assert rows[0][1] == pytest.approx(accuracy_score(y, probs.argmax(1)), abs=1e-12)
