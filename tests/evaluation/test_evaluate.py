"""evaluate() on a project: the stored matches, the summary view against pycocotools, reruns."""

import numpy as np
import pytest

import qmdb
from qmdb.errors import QmdbError
from qmdb.evaluation.reference import coco_dicts, cocoeval
from qmdb.evaluation.synthetic import detection_case

from .conftest import load_case

SUMMARY = ("ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10", "ar100",
           "ar_small", "ar_medium", "ar_large")


def test_summary_view_equals_pycocotools(detection_project):
    con, (gt, dt, images, k) = detection_project
    report = qmdb.evaluate(con, "det-model", progress=False)
    reference = cocoeval(*coco_dicts(gt, dt, images, k))
    row = con.sql(f"SELECT {', '.join(SUMMARY)} FROM eval_summary WHERE model = 'det-model'").fetchall()[0]
    np.testing.assert_allclose(np.array(row, dtype=float), reference.stats, rtol=0, atol=1e-6)
    np.testing.assert_allclose(list(report.stats.values()), reference.stats, rtol=0, atol=1e-6)
    assert "ap50" in str(report)


def test_every_prediction_and_label_has_one_row_per_threshold(detection_project):
    con, (gt, dt, _, _) = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    counts = dict(con.sql("SELECT item_type, count(*) FROM matches GROUP BY 1").fetchall())
    assert counts == {"prediction": 10 * len(dt), "label": 10 * len(gt)}
    per_item = con.sql("SELECT max(n) FROM (SELECT count(*) AS n FROM matches WHERE item_type = 'label' "
                       "GROUP BY threshold, label_id)").fetchall()[0][0]
    assert per_item == 1
    # a TP prediction row and its label row name each other (a crowd region absorbs several: ignored)
    pairs = con.sql("""SELECT count(*) FROM matches p JOIN matches l
                       ON l.item_type = 'label' AND p.item_type = 'prediction' AND l.threshold = p.threshold
                       AND l.label_id = p.label_id AND l.prediction_id = p.prediction_id
                       WHERE p.outcome = 'TP' AND NOT p.ignored""").fetchall()[0][0]
    tp = con.sql("SELECT count(*) FROM matches "
                 "WHERE item_type = 'prediction' AND outcome = 'TP' AND NOT ignored").fetchall()[0][0]
    assert pairs == tp > 0
    assert con.sql("SELECT min(iou) >= 0.5 FROM matches WHERE outcome = 'TP' AND threshold = 0.5").fetchall() == [(True,)]


def test_rerun_replaces_rows_never_duplicates(detection_project):
    con, _ = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    before = con.sql("SELECT count(*) FROM matches").fetchall()
    qmdb.evaluate(con, "det-model", progress=False)
    assert con.sql("SELECT count(*) FROM matches").fetchall() == before
    assert con.sql("SELECT count(*) FROM evaluations").fetchall() == [(1,)]


def test_unknown_model_is_a_clear_error(detection_project):
    con, _ = detection_project
    with pytest.raises(QmdbError, match="no model named 'nope'.*det-model"):
        qmdb.evaluate(con, "nope")


def test_interrupted_write_keeps_the_previous_result(detection_project, monkeypatch):
    con, _ = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    before = con.sql("SELECT count(*), sum(iou) FROM matches").fetchall()
    from qmdb.evaluation import run

    def broken(*args, insert, **kwargs):
        def insert_then_fail(rows, classes):
            insert(rows, classes)          # a range's matches written, then the run fails mid-transaction
            raise RuntimeError("interrupted")

        return original(*args, insert=insert_then_fail, **kwargs)

    original = run.evaluate_detection
    monkeypatch.setattr(run, "evaluate_detection", broken)
    with pytest.raises(Exception):
        qmdb.evaluate(con, "det-model", progress=False)
    assert con.sql("SELECT count(*), sum(iou) FROM matches").fetchall() == before


def test_a_model_name_with_quotes_is_stored_as_given():
    con = qmdb.connect()
    gt, dt, images = detection_case(seed=3, n_images=20, boxes_per_image=4, n_classes=3, crowd_rate=0.0)
    name = "o'brien's \"det\""
    load_case(con, gt, dt, images, 3, model=name)
    qmdb.evaluate(con, name, progress=False)
    assert con.sql("SELECT DISTINCT model, iou_type FROM matches").fetchall() == [(name, "bbox")]
    assert con.sql("SELECT count(*) FROM matches").fetchall()[0][0] == 10 * (len(gt) + len(dt))
    con.close()
