"""The eval_* views: per class, confusion, by metric, metric importance, comparison."""

import duckdb
import numpy as np
import pytest

import qmdb


@pytest.fixture(scope="module")
def evaluated(detection_project):
    """The project evaluated, with metric rows, and a second model whose boxes are shifted by 30% of their width."""
    con, case = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    add_metrics(con)
    con.execute("INSERT INTO models (model, task, dataset) VALUES ('shifted', 'detection', 'det')")
    con.execute("""INSERT INTO predictions (prediction_id, model, image_id, class, score, x, y, w, h, source_id)
                   SELECT prediction_id + 10000000, 'shifted', image_id, class, score, x + 0.3 * w, y, w, h, source_id
                   FROM predictions WHERE model = 'det-model'""")
    qmdb.evaluate(con, "shifted", progress=False)
    qmdb.views.install(con)
    return con, case


def add_metrics(con):
    """Metric rows with the contract's column names, computed from the project's own data:
    `brightness` is each image's share of labels the model found (so it must matter most),
    `contrast` a hash of the image id (so it must not), `box_area` each label's w*h."""
    con.execute("""INSERT INTO image_metrics (image_id, brightness, contrast, versions)
        SELECT i.image_id, avg(CAST(m.outcome = 'TP' AS DOUBLE)), (hash(i.image_id) % 997) / 997.0, MAP {}
        FROM images i LEFT JOIN matches m ON m.image_id = i.image_id AND m.item_type = 'label' AND m.threshold = 0.5
        GROUP BY i.image_id""")
    con.execute("INSERT INTO label_metrics (label_id, box_area, versions) SELECT label_id, w * h, MAP {} FROM labels")


COCO_AP = ("SELECT avg(ap) FROM eval_ap WHERE model = 'det-model' AND threshold = ? "
           "AND area_range = 'all' AND max_dets = 100")


def test_per_class_counts_and_ap(evaluated):
    con, (gt, _, _, _) = evaluated
    rows = con.sql("SELECT class, labels, tp, fp, fn, precision, recall, ap "
                   "FROM eval_per_class('det-model', iou_threshold := 0.75)").fetchall()
    assert sum(r[1] for r in rows) == int((~gt.crowd).sum())
    for _, labels, tp, fp, fn, precision, recall, _ in rows:
        assert tp + fn == labels
        assert precision == pytest.approx(tp / (tp + fp)) and recall == pytest.approx(tp / labels)
    ap = con.sql(COCO_AP, params=[0.75]).fetchall()
    assert np.mean([r[7] for r in rows]) == pytest.approx(ap[0][0])
    strict = con.sql("SELECT sum(tp) FROM eval_per_class('det-model', min_score := 0.5)").fetchall()[0][0]
    loose = con.sql("SELECT sum(tp) FROM eval_per_class('det-model')").fetchall()[0][0]
    assert 0 < strict < loose


def test_confusion_matrix_covers_every_label_and_spurious_prediction(evaluated):
    con, (gt, _, _, _) = evaluated
    rows = con.sql("SELECT true_class, predicted_class, count "
                   "FROM eval_confusion('det-model', min_score := 0.0)").fetchall()
    assert sum(n for t, _, n in rows if t != "background") == int((~gt.crowd).sum())
    assert any(p == "background" for _, p, _ in rows) and any(t == "background" for t, _, _ in rows)
    diagonal = sum(n for t, p, n in rows if t == p)
    assert diagonal > sum(n for t, p, n in rows if t != p and "background" not in (t, p))


def test_by_metric_single_bin_ap_is_cocos(evaluated):
    con, _ = evaluated
    (ap,) = con.sql("SELECT ap FROM eval_by_metric(metric_name := 'contrast', model_name := 'det-model', "
                    "edges := []::DOUBLE[])").fetchall()[0]
    coco = con.sql(COCO_AP, params=[0.5]).fetchall()
    assert ap == pytest.approx(coco[0][0], abs=1e-12)


def test_by_metric_bins_split_the_labels(evaluated):
    con, (gt, _, _, _) = evaluated
    rows = con.sql("SELECT bin, labels, recall, recall_low, recall_high, precision "
                   "FROM eval_by_metric(metric_name := 'brightness', model_name := 'det-model')").fetchall()
    assert len(rows) == 4 and sum(r[1] for r in rows) == int((~gt.crowd).sum())
    recalls = [r[2] for r in rows]
    assert recalls == sorted(recalls)                       # brightness is the found share: recall rises with it
    assert all(lo <= rc <= hi for _, _, rc, lo, hi, _ in rows)
    small = con.sql("SELECT bin, labels, recall, precision FROM eval_by_metric(metric_name := 'box_area', "
                    "model_name := 'det-model', edges := [1024.0, 9216.0])").fetchall()
    assert [r[0] for r in small] == [0, 1, 2] and all(r[3] is None for r in small)


def test_metric_importance_ranks_the_metric_that_matters_first(evaluated):
    con, _ = evaluated
    rows = con.sql("SELECT metric, correlation, mutual_information, rank FROM eval_metric_importance('det-model') "
                   "WHERE target = 'recall' ORDER BY rank").fetchall()
    assert rows[0][0] == "brightness" and rows[0][1] > 0.3
    by_name = {r[0]: r for r in rows}
    assert by_name["contrast"][2] < by_name["brightness"][2] / 5


def test_compare_a_model_with_itself_and_with_a_worse_copy(evaluated):
    con, _ = evaluated
    same = con.sql("SELECT max(abs(recall_delta)), max(abs(ap_delta)) "
                   "FROM eval_compare('det-model', 'det-model')").fetchall()
    assert same == [(0.0, 0.0)]
    overall = con.sql("SELECT recall_a, recall_b, ap_delta "
                      "FROM eval_compare('det-model', 'shifted') WHERE class = '*'").fetchall()[0]
    assert overall[1] < overall[0] and overall[2] < 0
    agreement = dict(con.sql("SELECT agreement, count(*) "
                             "FROM eval_compare_samples('det-model', 'shifted') GROUP BY 1").fetchall())
    assert agreement.get("only_a", 0) > agreement.get("only_b", 0)


def test_by_metric_unknown_metric_is_a_clear_error(evaluated):
    con, _ = evaluated
    with pytest.raises(duckdb.Error, match="no values for metric 'nope'"):
        con.sql("SELECT * FROM eval_by_metric(metric_name := 'nope')").fetchall()


def test_any_column_is_a_slice(evaluated):
    """Categorical columns (image metadata, a label's annotator, tags) bin one value each, and agree with slice()."""
    con, _ = evaluated
    con.execute("ALTER TABLE images ADD COLUMN IF NOT EXISTS camera VARCHAR")
    con.execute("UPDATE images SET camera = CASE WHEN image_id % 2 = 0 THEN 'even' ELSE 'odd' END")
    con.execute("ALTER TABLE labels ADD COLUMN IF NOT EXISTS annotator VARCHAR")
    con.execute("UPDATE labels SET annotator = CASE WHEN label_id % 3 = 0 THEN 'ann-a' ELSE 'ann-b' END")
    con.execute("INSERT INTO tags (item_type, item_id, tag) SELECT 'image', image_id, 'hard' FROM images "
                "ORDER BY image_id LIMIT 20")
    rows = con.sql("SELECT category, images, labels, recall, precision, ap, lower_edge FROM eval_by_metric("
                   "metric_name := 'camera', model_name := 'det-model') ORDER BY bin").fetchall()
    assert [r[0] for r in rows] == ["even", "odd"] and all(r[6] is None for r in rows)
    part = qmdb.evaluate.slice(con, "camera = 'even'", model_name="det-model").fetchall()
    cols = qmdb.evaluate.slice(con, "camera = 'even'", model_name="det-model").columns
    even = dict(zip(cols, part[0]))
    assert rows[0][1:4] == (even["images"], even["labels"], pytest.approx(even["recall"]))
    assert rows[0][5] == pytest.approx(even["ap"], abs=1e-12)
    by_annotator = con.sql("SELECT category, labels, precision FROM eval_by_metric("
                           "metric_name := 'annotator', model_name := 'det-model') ORDER BY bin").fetchall()
    assert [(c, p) for c, _, p in by_annotator] == [("ann-a", None), ("ann-b", None)]   # label-level: recall only
    tags = dict(con.sql("SELECT category, images FROM eval_by_metric(metric_name := 'tags', "
                        "model_name := 'det-model')").fetchall())
    assert set(tags) == {"(none)", "hard"} and tags["hard"] <= 20
    ranked = con.sql("SELECT metric, kind FROM eval_metric_importance(model_name := 'det-model')").fetchall()
    assert ("camera", "categorical") in ranked and ("annotator", "categorical") in ranked
    assert ("brightness", "numeric") in ranked


def test_non_ordinal_columns_are_never_ranked(evaluated):
    con, _ = evaluated
    con.execute("UPDATE image_metrics SET phash = hash(image_id)")     # a hash: numeric, but not ordinal
    metrics = {m for (m,) in con.sql("SELECT metric FROM eval_metric_importance()").fetchall()}
    assert "brightness" in metrics
    assert not metrics & {"phash", "image_id", "label_id", "path", "sha256", "source_id"}


def test_eval_by_metric_bounds_bins_inside_sql(demo_db):
    """The bound is in the view itself, so plain DuckDB and the server get it alike, before any list is built."""
    import duckdb

    con = qmdb.connect(demo_db, read_only=True)
    try:
        for bins in (0, 1001, 2_000_000_000):
            with pytest.raises(duckdb.InvalidInputException, match="bins must be between 1 and 1000"):
                con.execute(f"SELECT * FROM eval_by_metric(metric_name := 'brightness', bins := {bins})").fetchall()
        assert con.execute("SELECT count(*) FROM eval_by_metric(metric_name := 'brightness', bins := 1000)").fetchone()[0]
    finally:
        con.close()
