"""A prediction's own box metrics as slices (`prediction_metrics` in eval_by_metric and eval_metric_importance).

A hand-made case whose every outcome is known by construction (boxes in disjoint grid cells: a copy of a
label is a hit, a second copy a duplicate, another class or an empty cell a false positive) is binned by
the predicted box's area, and each bin's precision, support and COCO AP are recomputed here in numpy from
that construction alone. The default calls are compared with a copy of the views as they were before
prediction metrics (`OLD_*` below) on the same data, here and on the demo.
"""

import math
import shutil

import numpy as np
import pyarrow as pa
import pytest

import qmdb
from qmdb import views

Z = 1.959963984540054  # the Wilson macros' 95% z
W = H = 400            # image size; boxes sit in a 4 x 4 grid of 100 px cells


def build_case(seed: int = 7):
    """Six images, two classes; returns (con, truth) where truth holds each prediction's known outcome."""
    rng = np.random.default_rng(seed)
    labels, preds, dups = [], [], []   # (image, class, x, y, w, h), (image, class, x, y, w, h, tp), duplicates
    for image in range(1, 7):
        cells = rng.permutation(16)
        for k, cell in enumerate(cells[:5]):
            x, y = float(100 * (cell % 4) + 10), float(100 * (cell // 4) + 10)
            w, h = (float(v) for v in rng.integers(20, 81, 2))
            cls = str("ab"[rng.integers(2)])
            labels.append((image, cls, x, y, w, h))
            kind = ("hit", "hit", "dup", "wrong", "miss")[k]
            if kind in ("hit", "dup"):
                preds.append([image, cls, x + 1, y + 1, w, h, True])
            if kind == "dup":
                dups.append(len(preds))
                preds.append([image, cls, x + 2, y, w - 1, h, False])   # scored lower below: the duplicate
            if kind == "wrong":
                preds.append([image, "ba"[cls == "b"], x, y, w, h, False])
        for cell in cells[5:7]:                                        # empty cells: background
            x, y = float(100 * (cell % 4) + 5), float(100 * (cell // 4) + 5)
            preds.append([image, str("ab"[rng.integers(2)]), x, y, *(float(v) for v in rng.integers(15, 90, 2)), False])
    n = len(preds)
    score = 0.05 + 0.9 * rng.permutation(n) / n                        # distinct scores
    for i in dups:                                                     # a duplicate scores below its hit
        score[i - 1], score[i] = max(score[i - 1], score[i]), min(score[i - 1], score[i])
    con = qmdb.connect()
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES ('hand', '.', 'coco', 'detection')")
    con.execute("ALTER TABLE images ADD COLUMN IF NOT EXISTS camera VARCHAR")
    con.executemany("INSERT INTO images (image_id, dataset, path, width, height, source_id, camera) "
                    "VALUES (?, 'hand', ?, ?, ?, ?, ?)",
                    [[i, f"{i}.png", W, H, str(i), "AB"[i % 2]] for i in range(1, 7)])
    con.executemany("INSERT INTO labels (label_id, image_id, class, x, y, w, h, area, iscrowd, source_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, false, ?)",
                    [[k + 1, im, c, x, y, w, h, w * h, str(k + 1)] for k, (im, c, x, y, w, h) in enumerate(labels)])
    con.execute("INSERT INTO models (model, task, dataset) VALUES ('m', 'detection', 'hand')")
    con.executemany("INSERT INTO predictions (prediction_id, model, image_id, class, score, x, y, w, h, source_id) "
                    "VALUES (?, 'm', ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[k + 1, p[0], p[1], float(score[k]), *p[2:6], str(k + 1)] for k, p in enumerate(preds)])
    qmdb.evaluate(con, "m", progress=False)
    truth = {"image": np.array([p[0] for p in preds]), "cls": np.array([p[1] for p in preds]),
             "area": np.array([p[4] * p[5] for p in preds]), "tp": np.array([p[6] for p in preds]),
             "score": score, "id": np.arange(1, n + 1)}
    measured = truth["id"] != truth["id"][truth["tp"]][0]             # one hit never measured: its label is out too
    con.register("_pm", pa.table({"prediction_id": truth["id"][measured], "model": ["m"] * int(measured.sum()),
                                  "pred_box_area": truth["area"][measured]}))
    con.execute("INSERT INTO prediction_metrics BY NAME SELECT * FROM _pm")
    con.unregister("_pm")
    truth = {**{k: v[measured] for k, v in truth.items()}, "all": truth}
    con.execute("INSERT INTO image_metrics (image_id, brightness, versions) SELECT image_id, "
                "(hash(image_id) % 101) / 100.0, MAP {} FROM images")
    con.execute("INSERT INTO label_metrics (label_id, box_area, versions) SELECT label_id, w * h, MAP {} FROM labels")
    for name, text in (("old_eval_by_metric", OLD_EVAL_BY_METRIC), ("old_eval_metric_importance", OLD_IMPORTANCE)):
        con.execute(views.parse(name, text).create_sql)
    return con, truth


@pytest.fixture(scope="module")
def case():
    con, truth = build_case()
    yield con, truth
    con.close()


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre, half = p + Z**2 / (2 * n), Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n))
    return (centre - half) / (1 + Z**2 / n), (centre + half) / (1 + Z**2 / n)


def coco_ap(score: np.ndarray, tp: np.ndarray, npos: int) -> float:
    """COCOeval.accumulate's 101-point AP of one class: detections best first, precision made monotone."""
    order = np.argsort(-score, kind="stable")
    ctp, cfp = np.cumsum(tp[order]), np.cumsum(~tp[order])
    recall, precision = ctp / npos, ctp / (ctp + cfp)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return float(np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0).sum() / 101)


def expected_bins(t: dict, edges: np.ndarray | None, min_score: float, n_images: int) -> list[dict]:
    """Per bin of the predictions' own value (the area cut at `edges`; None: one bin per predicted class):
    what the view must say, from the construction alone."""
    bins = (edges[None, :] <= t["area"][:, None]).sum(1) if edges is not None else np.unique(t["cls"], return_inverse=True)[1]
    out = []
    for b in np.unique(bins):
        inside = bins == b
        counted = inside & (t["score"] >= min_score)
        tp, fp = int((counted & t["tp"]).sum()), int((counted & ~t["tp"]).sum())
        aps = [coco_ap(t["score"][inside & (t["cls"] == c)], t["tp"][inside & (t["cls"] == c)],
                       int((inside & t["tp"] & (t["cls"] == c)).sum()))
               for c in np.unique(t["cls"][inside]) if (inside & t["tp"] & (t["cls"] == c)).any()]
        out.append({"bin": int(b), "images": len(np.unique(t["image"][inside])), "labels": int((inside & t["tp"]).sum()),
                    "predictions": tp + fp, "precision": tp / (tp + fp),
                    "precision_low": wilson(tp, tp + fp)[0], "precision_high": wilson(tp, tp + fp)[1],
                    "fp_per_image": fp / n_images, "ap": float(np.mean(aps)) if aps else None,
                    "recall": None, "recall_low": None, "recall_high": None, "scope": "prediction"})
    return out


def rows(con, sql: str) -> list[dict]:
    return con.sql(sql).to_arrow_table().to_pylist()


def assert_rows_equal(got: list[dict], want: list[dict], keys=None) -> None:
    """Same rows in the same order; floats to 1e-12 (DuckDB's parallel sums differ in the last bit between runs)."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for key in keys or w:
            a, b = g[key], w[key]
            if isinstance(b, float) and a is not None:
                assert a == pytest.approx(b, abs=1e-12, nan_ok=True), (key, g, w)
            else:
                assert a == b, (key, g, w)


EDGES = "[1500.0, 3500.0]"


@pytest.mark.parametrize("min_score", [0.0, 0.4])
def test_precision_fps_and_ap_per_bin_are_direct_counts(case, min_score):
    con, t = case
    got = rows(con, f"SELECT * FROM eval_by_metric(metric_name := 'pred_box_area', edges := {EDGES}, "
                    f"min_score := {min_score})")
    want = expected_bins(t, np.array([1500.0, 3500.0]), min_score, n_images=6)
    assert [r["bin"] for r in want] == [0, 1, 2]
    assert_rows_equal(got, want)
    assert [(r["lower_edge"], r["upper_edge"]) for r in got] == [(None, 1500.0), (1500.0, 3500.0), (3500.0, None)]
    # a label is in the bin of its matched prediction; the 12 missed ones (and the unmeasured prediction's) are out
    ((labels,),) = con.sql("SELECT count(*) FROM labels").fetchall()
    assert sum(r["labels"] for r in got) == int(t["tp"].sum()) < labels


def test_the_predicted_class_is_a_prediction_level_slice(case):
    """level := 'prediction' reads a column of predictions (here its class) as categories: one bin per
    predicted class, a label in the bin of the prediction matched to it; the label-level default reads
    the label's class and gives recall."""
    con, t = case
    got = rows(con, "SELECT * FROM eval_by_metric(metric_name := 'class', level := 'prediction')")
    assert_rows_equal(got, expected_bins(t["all"], None, 0.0, n_images=6))
    assert [r["category"] for r in got] == ["a", "b"]
    by_label = rows(con, "SELECT * FROM eval_by_metric(metric_name := 'class')")
    assert {r["scope"] for r in by_label} == {"label"} and all(r["recall"] is not None for r in by_label)


def test_importance_ranks_the_predicted_class(case):
    con, t = case
    got = rows(con, "SELECT * FROM eval_metric_importance(level := 'prediction') WHERE metric = 'class'")
    assert [(r["target"], r["scope"], r["kind"]) for r in got] == [("precision", "prediction", "categorical")]
    rates = [float(t["all"]["tp"][t["all"]["cls"] == c].mean()) for c in ("a", "b")]
    assert (got[0]["rate_lowest_bin"], got[0]["rate_highest_bin"]) == pytest.approx((min(rates), max(rates)), abs=1e-12)


def test_quantile_bins_are_cut_over_the_predictions(case):
    con, t = case
    got = rows(con, "SELECT * FROM eval_by_metric(metric_name := 'pred_box_area', bins := 4)")
    edges = np.quantile(t["area"], [0.25, 0.5, 0.75])
    assert [r["upper_edge"] for r in got[:3]] == pytest.approx(edges.tolist(), abs=1e-9)
    assert_rows_equal(got, expected_bins(t, edges, 0.0, n_images=6))


def test_level_picks_where_a_name_is_read():
    """`box_area` at two levels: the default reads the label's, as before; level := 'prediction' the prediction's."""
    con, t = build_case()
    con.execute("ALTER TABLE prediction_metrics ADD COLUMN box_area DOUBLE")
    con.execute("UPDATE prediction_metrics SET box_area = pred_box_area")
    call = f"metric_name := 'box_area', edges := {EDGES}"
    default = rows(con, f"SELECT * FROM eval_by_metric({call})")
    assert {r["scope"] for r in default} == {"label"} and all(r["precision"] is None for r in default)
    assert_rows_equal(default, rows(con, f"SELECT * FROM old_eval_by_metric({call})"))
    assert_rows_equal(rows(con, f"SELECT * FROM eval_by_metric({call}, level := 'label')"), default)
    assert_rows_equal(rows(con, f"SELECT * FROM eval_by_metric({call}, level := 'prediction')"),
                      expected_bins(t, np.array([1500.0, 3500.0]), 0.0, n_images=6))
    with pytest.raises(Exception, match="no values for metric 'box_area' in image_metrics or images"):
        con.sql(f"SELECT * FROM eval_by_metric({call}, level := 'image')").fetchall()
    with pytest.raises(Exception, match="level must be 'image', 'label' or 'prediction', not 'box'"):
        con.sql(f"SELECT * FROM eval_by_metric({call}, level := 'box')").fetchall()
    ranked = {(r["scope"], r["target"]) for r in rows(
        con, "SELECT * FROM eval_metric_importance() WHERE metric = 'box_area'")}
    assert ranked == {("label", "recall"), ("prediction", "precision")}        # two rows, told apart by scope
    con.close()


CALLS = ["metric_name := 'brightness'", "metric_name := 'box_area'", "metric_name := 'camera'",
         "metric_name := 'tags'", "metric_name := 'brightness', edges := [0.3, 0.6], min_score := 0.4",
         "metric_name := 'box_area', bins := 3, iou_threshold := 0.75, model_name := 'm'"]


def assert_importance_unchanged(con, params: str = "") -> None:
    """The old rows, in the old order, with the old ranks; only prediction-level rows are new.
    Ranks compare at 1e-9 (equal mutual information computed in another order ties either way)."""
    rerank = ("SELECT * EXCLUDE (rank), rank() OVER (PARTITION BY model, target "
              "ORDER BY round(mutual_information, 9) DESC) AS rank FROM {} ORDER BY model, target, rank, scope, metric")
    new = rows(con, rerank.format(f"(SELECT * FROM eval_metric_importance({params}) WHERE scope <> 'prediction')"))
    old = rows(con, rerank.format(f"old_eval_metric_importance({params})"))
    assert new and {r["scope"] for r in old} >= {"image", "label"}
    assert_rows_equal(new, old)


def test_default_calls_return_what_they_did(case):
    con, _ = case
    for call in CALLS:
        old = rows(con, f"SELECT * FROM old_eval_by_metric({call})")
        assert old, call
        assert_rows_equal(rows(con, f"SELECT * FROM eval_by_metric({call})"), old)
    assert_importance_unchanged(con)
    assert_importance_unchanged(con, "model_name := 'm', min_score := 0.4, bins := 5")


def test_importance_ranks_the_prediction_metric(case):
    con, t = case
    (got,) = rows(con, "SELECT * FROM eval_metric_importance(level := 'prediction') WHERE kind = 'numeric'")
    assert (got["metric"], got["scope"], got["target"], got["kind"], got["rank"]) == \
        ("pred_box_area", "prediction", "precision", "numeric", 1)
    success = t["tp"].astype(float)
    ranks = np.searchsorted(np.sort(t["area"]), t["area"], side="left")          # percent_rank's (rank - 1)
    bins = np.minimum(9, np.floor(ranks / (len(ranks) - 1) * 10)).astype(int)
    joint = np.array([[np.sum((bins == b) & (t["tp"] == s)) for s in (False, True)] for b in range(10)]) / len(bins)
    nz = joint > 0
    information = np.sum(joint[nz] * np.log2(joint[nz] / np.outer(joint.sum(1), joint.sum(0))[nz]))
    assert got["n"] == len(t["tp"]) and got["success_rate"] == pytest.approx(success.mean())
    assert got["correlation"] == pytest.approx(np.corrcoef(t["area"], success)[0, 1], abs=1e-12)
    assert got["mutual_information"] == pytest.approx(information, abs=1e-12)
    assert got["rate_lowest_bin"] == pytest.approx(success[bins == bins.min()].mean())
    assert got["rate_highest_bin"] == pytest.approx(success[bins == bins.max()].mean())
    everything = {(r["scope"], r["metric"]) for r in rows(con, "SELECT * FROM eval_metric_importance()")}
    assert ("prediction", "pred_box_area") in everything and ("image", "brightness") in everything


def test_ids_and_hashes_are_never_ranked():
    """Columns that predict success perfectly, but are ids or hashes, stay out at every level."""
    con, _ = build_case()
    con.execute("ALTER TABLE prediction_metrics ADD COLUMN cluster_id DOUBLE")
    con.execute("ALTER TABLE prediction_metrics ADD COLUMN box_hash DOUBLE")
    con.execute("UPDATE prediction_metrics p SET cluster_id = CAST(m.outcome = 'TP' AS DOUBLE), box_hash = p.cluster_id "
                "FROM matches m WHERE m.prediction_id = p.prediction_id AND m.item_type = 'prediction' "
                "AND m.threshold = 0.5")
    con.execute("UPDATE prediction_metrics SET box_hash = cluster_id")
    con.execute("ALTER TABLE label_metrics ADD COLUMN group_id DOUBLE")
    con.execute("UPDATE label_metrics l SET group_id = CAST(m.outcome = 'TP' AS DOUBLE) FROM matches m "
                "WHERE m.label_id = l.label_id AND m.item_type = 'label' AND m.threshold = 0.5")
    ranked = {r["metric"] for r in rows(con, "SELECT * FROM eval_metric_importance()")}
    assert "pred_box_area" in ranked and not ranked & {"cluster_id", "box_hash", "group_id", "prediction_id", "model"}
    # they are real slices when asked for by name
    assert rows(con, "SELECT count(*) AS n FROM eval_by_metric(metric_name := 'cluster_id', edges := [0.5])")[0]["n"] == 2
    con.close()


def test_plots_pass_the_level_through(case):
    from qmdb import plots

    con, t = case
    data = plots.by_metric_data(con, "pred_box_area", bins=2)
    assert {r["scope"] for r in data} == {"prediction"} and sum(r["predictions"] for r in data) == len(t["tp"])
    assert plots.by_metric_data(con, "box_area", level="label", bins=2)[0]["scope"] == "label"
    svg = plots.plot_by_metric(con, "pred_box_area", None, bins=2, format="svg")
    assert b"<svg" in svg
    top = plots.importance_data(con, "m", "precision", level="prediction")
    assert {(r["metric"], r["scope"]) for r in top} == {("pred_box_area", "prediction"), ("class", "prediction")}
    with pytest.raises(plots.PlotError, match="no recall"):
        plots.importance_data(con, "m", "recall", level="prediction")
    with pytest.raises(plots.PlotError, match="prediction_metrics: pred_box_area"):
        plots.by_metric_data(con, "nope")
    with pytest.raises(plots.PlotError, match="no values for metric 'pred_box_area' in label_metrics"):
        plots.by_metric_data(con, "pred_box_area", level="label")


def test_demo_predicted_boxes(demo_db, tmp_path):
    """On the demo's detector: precision per bin of the measured boxes is a count, and default calls are as before."""
    from qmdb.udfs.prediction_boxes import compute_prediction_metrics

    copy = tmp_path / "demo.duckdb"          # other tests may hold the shared file open with another configuration
    shutil.copyfile(demo_db, copy)
    con = qmdb.connect(copy)
    try:
        assert compute_prediction_metrics(con, "detector") > 1000
        for name, text in (("old_eval_by_metric", OLD_EVAL_BY_METRIC), ("old_eval_metric_importance", OLD_IMPORTANCE)):
            con.execute(views.parse(name, text).create_sql)
        t = con.sql("SELECT pm.pred_brightness AS v, m.outcome = 'TP' AS tp, m.image_id FROM matches m "
                    "JOIN prediction_metrics pm USING (prediction_id) WHERE m.model = 'detector' "
                    "AND m.item_type = 'prediction' AND m.threshold = 0.5 AND NOT m.ignored AND m.iou_type = 'bbox' "
                    "AND pm.pred_brightness IS NOT NULL").to_arrow_table()
        v, tp = t["v"].to_numpy(), t["tp"].to_numpy(zero_copy_only=False)
        edges = np.quantile(v, [1 / 3, 2 / 3])
        b = (edges[None, :] <= v[:, None]).sum(1)
        got = rows(con, "SELECT * FROM eval_by_metric(metric_name := 'pred_brightness', model_name := 'detector', "
                        "bins := 3)")
        assert [r["predictions"] for r in got] == [int((b == k).sum()) for k in range(3)]
        assert [r["precision"] for r in got] == pytest.approx([tp[b == k].mean() for k in range(3)], abs=1e-12)
        assert [r["labels"] for r in got] == [int(tp[b == k].sum()) for k in range(3)]
        assert all(r["recall"] is None and 0 < r["ap"] <= 1 for r in got)
        for call in ("metric_name := 'brightness'", "metric_name := 'box_area', bins := 5", "metric_name := 'camera'",
                     "metric_name := 'annotator'", "metric_name := 'area_rel', edges := [0.001, 0.01, 0.1]",
                     "metric_name := 'sharpness', model_name := 'detector', min_score := 0.3, iou_threshold := 0.75"):
            assert_rows_equal(rows(con, f"SELECT * FROM eval_by_metric({call})"),
                              rows(con, f"SELECT * FROM old_eval_by_metric({call})"))
        assert_importance_unchanged(con)
        prediction = rows(con, "SELECT metric FROM eval_metric_importance(model_name := 'detector', level := 'prediction')")
        assert {r["metric"] for r in prediction} == {"pred_box_area", "pred_aspect_ratio", "pred_border_distance",
                                                     "pred_area_rel", "pred_brightness", "class"}
    finally:
        con.close()


# The views as they were before prediction metrics (commit 0bccc71): the default calls must return what these do.
OLD_EVAL_BY_METRIC = r"""
-- description: Performance by any column: a numeric image or label metric cut into quantile bins (or the given edges), or a categorical column (image metadata such as camera, site or split, a label's annotator, an image's tags as 'tags') with one bin per value; per model and bin the support, recall (TPR) with a Wilson 95% interval, and for image-level columns precision (Wilson), false positives per image and COCO's 101-point AP at iou_threshold (mean over classes). Label-level columns give recall only: a false positive has no label to read them from.
-- param: metric_name VARCHAR = 'brightness' -- any column of image_metrics, label_metrics, images or labels, or 'tags'
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted in recall and precision (AP uses every score)
-- param: bins INTEGER = 4 -- number of quantile bins when no edges are given (numeric columns), 1 to 1000
-- param: edges DOUBLE[] = NULL -- bin edges, e.g. [0.2, 0.5]; NULL cuts at quantiles (numeric columns)
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- needs: tables
WITH image_values AS (
    SELECT image_id AS item_id, value FROM (
        UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions')) AS DOUBLE) FROM image_metrics)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
label_values AS (
    SELECT label_id AS item_id, value FROM (
        UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'versions')) AS DOUBLE) FROM label_metrics)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
-- metadata: the columns of images and labels as text (ids and geometry left out), and an image's tags
image_categories AS (
    SELECT image_id AS item_id, value AS category FROM (
        UNPIVOT (SELECT image_id, CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'path', 'sha256', 'source_id')) AS VARCHAR)
                 FROM images)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
    UNION ALL
    SELECT i.image_id, coalesce(string_agg(DISTINCT t.tag, ', ' ORDER BY t.tag), '(none)')
    FROM images i LEFT JOIN tags t ON t.item_type = 'image' AND t.item_id = i.image_id
    WHERE metric_name = 'tags' GROUP BY i.image_id
),
label_categories AS (
    SELECT label_id AS item_id, value AS category FROM (
        UNPIVOT (SELECT label_id, CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'image_id', 'source_id', 'x', 'y', 'w', 'h',
                                                                   'polygon')) AS VARCHAR) FROM labels)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
scope AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM image_values) THEN 'image'
                WHEN EXISTS (SELECT 1 FROM label_values) THEN 'label'
                WHEN EXISTS (SELECT 1 FROM image_categories) THEN 'image'
                WHEN EXISTS (SELECT 1 FROM label_categories) THEN 'label'
                ELSE error('eval_by_metric: no values for metric ''' || metric_name
                           || ''' in image_metrics, label_metrics, images or labels (compute it first, or check its name)') END AS kind,
           NOT EXISTS (SELECT 1 FROM image_values) AND NOT EXISTS (SELECT 1 FROM label_values) AS categorical
),
r AS (
    SELECT m.model, m.item_type, m.class, m.image_id, m.score, m.det_rank, m.outcome,
           CASE WHEN s.categorical THEN NULL WHEN s.kind = 'image' THEN iv.value ELSE lv.value END AS value,
           CASE WHEN NOT s.categorical THEN NULL WHEN s.kind = 'image' THEN ic.category ELSE lc.category END AS category,
           s.kind, s.categorical, o.image_order
    FROM matches m
    CROSS JOIN scope s
    JOIN (SELECT i.image_id, dense_rank() OVER (  -- COCO's tie rule: ties across images in COCO image id order
              ORDER BY CASE WHEN d.format = 'coco' THEN TRY_CAST(i.source_id AS BIGINT) END NULLS LAST, i.image_id
          ) AS image_order
          FROM images i LEFT JOIN datasets d ON d.name = i.dataset) o ON o.image_id = m.image_id
    LEFT JOIN image_values iv ON iv.item_id = m.image_id AND NOT s.categorical
    LEFT JOIN label_values lv ON lv.item_id = m.label_id AND NOT s.categorical
    LEFT JOIN image_categories ic ON ic.item_id = m.image_id AND s.categorical
    LEFT JOIN label_categories lc ON lc.item_id = m.label_id AND s.categorical
    WHERE (model_name IS NULL OR m.model = model_name)
      AND (m.threshold IS NULL OR abs(m.threshold - iou_threshold) < 1e-9)
      AND NOT m.ignored
      AND m.iou_type = iou_type_name
),
cuts AS (
    SELECT CASE WHEN NOT bins BETWEEN 1 AND 1000
                THEN error('eval_by_metric: bins must be between 1 and 1000, not ' || bins) END AS refused,
           coalesce(edges, (
        SELECT quantile_cont(value, list_transform(range(1, least(greatest(bins, 1), 1000)), lambda i: i / bins))
        FROM (SELECT DISTINCT CASE WHEN kind = 'image' THEN image_id END AS image_id, value FROM r
              WHERE value IS NOT NULL AND (kind = 'image' OR item_type = 'label'))
    )) AS e
),
binned AS (
    SELECT r.*, CASE WHEN r.categorical THEN CAST(dense_rank() OVER (ORDER BY r.category) - 1 AS INTEGER)
                     ELSE CAST(len(list_filter(c.e, lambda x: x <= r.value)) AS INTEGER) END AS bin,
           CASE WHEN NOT r.categorical THEN c.e END AS e
    FROM r CROSS JOIN cuts c
    WHERE c.refused IS NULL AND (r.value IS NOT NULL OR r.category IS NOT NULL) AND (r.kind = 'image' OR r.item_type = 'label')
),
rates AS (
    SELECT
        model,
        bin,
        any_value(kind) AS kind,
        any_value(e) AS e,
        any_value(category) AS category,
        bool_or(categorical) AS categorical,
        count(DISTINCT image_id) AS images,
        count(*) FILTER (WHERE item_type = 'label') AS labels,
        count(*) FILTER (WHERE item_type = 'label' AND coalesce(outcome = 'TP' AND score >= min_score, false)) AS found,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'TP' AND score >= min_score) AS tp,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'FP' AND score >= min_score) AS fp
    FROM binned
    GROUP BY model, bin
),
dets AS (
    SELECT model, bin, class, CAST(outcome = 'TP' AS INTEGER) AS hit,
           row_number() OVER (PARTITION BY model, bin, class ORDER BY score DESC, image_order, det_rank) AS n
    FROM binned WHERE item_type = 'prediction' AND kind = 'image'
),
npos AS (
    SELECT model, bin, class, count(*) AS npos FROM binned WHERE item_type = 'label' AND kind = 'image' GROUP BY ALL
),
curve AS (
    SELECT d.model, d.bin, d.class, d.n, p.npos,
           sum(d.hit) OVER w AS ctp, d.n - sum(d.hit) OVER w AS cfp
    FROM dets d JOIN npos p USING (model, bin, class)
    WINDOW w AS (PARTITION BY d.model, d.bin, d.class ORDER BY d.n)
),
points AS (
    SELECT model, bin, class, n, ctp / npos AS rc,
           max(ctp / (cfp + ctp + 2.220446049250313e-16)) OVER (PARTITION BY model, bin, class ORDER BY n DESC) AS envelope
    FROM curve
),
steps AS (
    -- a detection covers COCO's recall thresholds k * 0.01 in (previous recall, its recall]
    SELECT model, bin, class, envelope, rc, lag(rc, 1, -1.0) OVER (PARTITION BY model, bin, class ORDER BY n) AS rc_prev
    FROM points
),
covered AS (
    SELECT model, bin, class, envelope,
           CASE WHEN rc < 0 THEN 0 ELSE least(101, floor(rc * 100 + 1e-6) + CASE WHEN floor(rc * 100 + 1e-6) * 0.01 <= rc THEN 1 ELSE 0 END) END
         - CASE WHEN rc_prev < 0 THEN 0 ELSE least(101, floor(rc_prev * 100 + 1e-6) + CASE WHEN floor(rc_prev * 100 + 1e-6) * 0.01 <= rc_prev THEN 1 ELSE 0 END) END AS k
    FROM steps
),
class_ap AS (
    SELECT p.model, p.bin, p.class, coalesce(sum(c.envelope * c.k), 0) / 101 AS ap
    FROM npos p LEFT JOIN covered c USING (model, bin, class)
    GROUP BY p.model, p.bin, p.class
),
bin_ap AS (
    SELECT model, bin, avg(ap) AS ap, count(*) AS classes FROM class_ap GROUP BY model, bin
)
SELECT
    r.model,
    metric_name AS metric,
    r.kind AS scope,
    r.bin,
    CASE WHEN r.categorical OR r.bin = 0 THEN NULL ELSE r.e[r.bin] END AS lower_edge,
    CASE WHEN r.categorical OR r.bin = len(r.e) THEN NULL ELSE r.e[r.bin + 1] END AS upper_edge,
    r.images,
    r.labels,
    r.found / nullif(r.labels, 0) AS recall,
    wilson_low(r.found, r.labels) AS recall_low,
    wilson_high(r.found, r.labels) AS recall_high,
    CASE WHEN r.kind = 'image' THEN r.tp + r.fp END AS predictions,
    CASE WHEN r.kind = 'image' THEN r.tp / nullif(r.tp + r.fp, 0) END AS precision,
    CASE WHEN r.kind = 'image' THEN wilson_low(r.tp, r.tp + r.fp) END AS precision_low,
    CASE WHEN r.kind = 'image' THEN wilson_high(r.tp, r.tp + r.fp) END AS precision_high,
    CASE WHEN r.kind = 'image' THEN r.fp / nullif(r.images, 0) END AS fp_per_image,
    a.ap,
    r.category
FROM rates r
LEFT JOIN bin_ap a USING (model, bin)
ORDER BY r.model, r.bin
"""

OLD_IMPORTANCE = r"""
-- description: Which data property matters most to a model: for every image and label metric and every categorical column (image metadata such as camera or site, a label's annotator or class, an image's tags as 'tags'), its mutual information (bits, over quantile bins or categories) with success — TP vs FN for labels (target 'recall'), TP vs FP for predictions on image-level columns (target 'precision') — the Pearson correlation (numeric columns), and the success rate in the lowest and highest bin (for a categorical column: its worst and best category), ranked by mutual information per model and target. Non-ordinal columns (ids, paths, hashes such as phash, categorical columns of more than 50 values) are never ranked.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: bins INTEGER = 10 -- quantile bins for the mutual information (numeric columns)
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- needs: tables
WITH image_values AS (
    -- hashes are not ordinal: a nearby value means nothing
    UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions') AND c NOT ILIKE '%hash%') AS DOUBLE)
             FROM image_metrics)
    ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
),
label_values AS (
    UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'versions') AND c NOT ILIKE '%hash%') AS DOUBLE)
             FROM label_metrics)
    ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
),
image_meta AS (
    SELECT * FROM (
        UNPIVOT (SELECT image_id, CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'path', 'sha256', 'source_id')
                                                 AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS VARCHAR)
                 FROM images)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE category
    ) WHERE metric NOT IN (SELECT DISTINCT metric FROM image_values)
    UNION ALL
    SELECT i.image_id, 'tags', coalesce(string_agg(DISTINCT t.tag, ', ' ORDER BY t.tag), '(none)')
    FROM images i LEFT JOIN tags t ON t.item_type = 'image' AND t.item_id = i.image_id GROUP BY i.image_id
),
label_meta AS (
    SELECT * FROM (
        UNPIVOT (SELECT label_id, CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'image_id', 'source_id', 'x', 'y', 'w', 'h',
                                                                   'polygon', 'area')
                                                 AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS VARCHAR)
                 FROM labels)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE category
    ) WHERE metric NOT IN (SELECT DISTINCT metric FROM label_values)
),
-- categorical columns of at most 50 values (more is an id or free text, not a slice to rank)
image_categories AS (
    SELECT * FROM image_meta WHERE metric IN (SELECT metric FROM image_meta GROUP BY metric HAVING count(DISTINCT category) <= 50)
),
label_categories AS (
    SELECT * FROM label_meta WHERE metric IN (SELECT metric FROM label_meta GROUP BY metric HAVING count(DISTINCT category) <= 50)
),
m AS (
    SELECT model, item_type, image_id, label_id,
           CASE WHEN item_type = 'label' THEN coalesce(outcome = 'TP' AND score >= min_score, false)
                ELSE outcome = 'TP' END AS success
    FROM matches
    WHERE (model_name IS NULL OR model = model_name)
      AND (threshold IS NULL OR abs(threshold - iou_threshold) < 1e-9)
      AND NOT ignored
      AND iou_type = iou_type_name
      AND (item_type = 'label' OR score >= min_score)
),
obs AS (
    SELECT m.model, 'recall' AS target, 'image' AS scope, v.metric, v.value, m.success
    FROM m JOIN image_values v ON v.image_id = m.image_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'recall', 'label', v.metric, v.value, m.success
    FROM m JOIN label_values v ON v.label_id = m.label_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'precision', 'image', v.metric, v.value, m.success
    FROM m JOIN image_values v ON v.image_id = m.image_id WHERE m.item_type = 'prediction'
),
categorical_obs AS (
    SELECT m.model, 'recall' AS target, 'image' AS scope, v.metric, v.category, m.success
    FROM m JOIN image_categories v ON v.image_id = m.image_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'recall', 'label', v.metric, v.category, m.success
    FROM m JOIN label_categories v ON v.label_id = m.label_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'precision', 'image', v.metric, v.category, m.success
    FROM m JOIN image_categories v ON v.image_id = m.image_id WHERE m.item_type = 'prediction'
),
binned AS (
    SELECT model, target, scope, metric, value, success, 'numeric' AS kind,
           least(bins - 1, floor(percent_rank() OVER (PARTITION BY model, target, metric ORDER BY value) * bins)) AS bin
    FROM obs WHERE value IS NOT NULL AND isfinite(value)
    UNION ALL
    SELECT model, target, scope, metric, NULL, success, 'categorical',
           dense_rank() OVER (PARTITION BY model, target, metric ORDER BY category) - 1
    FROM categorical_obs
),
cells AS (
    SELECT model, target, scope, metric, bin, success, count(*) AS n FROM binned GROUP BY ALL
),
joint AS (
    SELECT *,
           sum(n) OVER (PARTITION BY model, target, metric) AS total,
           sum(n) OVER (PARTITION BY model, target, metric, bin) AS n_bin,
           sum(n) OVER (PARTITION BY model, target, metric, success) AS n_success
    FROM cells
),
information AS (
    SELECT model, target, scope, metric,
           sum(n / total * log2(n * total / (n_bin * n_success))) AS mutual_information,
           count(DISTINCT bin) AS bins_used
    FROM joint GROUP BY model, target, scope, metric
),
bin_rates AS (
    SELECT model, target, metric, kind, bin, avg(CAST(success AS DOUBLE)) AS rate FROM binned GROUP BY ALL
),
ends AS (
    -- numeric: the lowest and the highest bin; categorical: the worst and the best category
    SELECT model, target, metric, any_value(kind) AS kind,
           CASE WHEN any_value(kind) = 'numeric' THEN arg_min(rate, bin) ELSE min(rate) END AS rate_lowest_bin,
           CASE WHEN any_value(kind) = 'numeric' THEN arg_max(rate, bin) ELSE max(rate) END AS rate_highest_bin
    FROM bin_rates GROUP BY model, target, metric
),
correlation AS (
    SELECT model, target, metric, count(*) AS n, corr(value, CAST(success AS DOUBLE)) AS correlation,
           avg(CAST(success AS DOUBLE)) AS success_rate
    FROM binned GROUP BY model, target, metric
)
SELECT
    i.model,
    i.target,
    i.scope,
    i.metric,
    c.n,
    c.success_rate,
    c.correlation,
    i.mutual_information,
    e.rate_lowest_bin,
    e.rate_highest_bin,
    rank() OVER (PARTITION BY i.model, i.target ORDER BY i.mutual_information DESC) AS rank,
    e.kind
FROM information i
JOIN correlation c USING (model, target, metric)
JOIN ends e USING (model, target, metric)
WHERE i.bins_used > 1
ORDER BY i.model, i.target, rank
"""
