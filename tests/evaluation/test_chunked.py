"""Evaluation a few images at a time gives every number and row of evaluation in one range."""

import json

import numpy as np
import pytest

import qmdb
from qmdb.evaluation import chunked
from qmdb.evaluation.detection import Ranges
from qmdb.evaluation.reference import coco_dicts, cocoeval
from qmdb.evaluation.synthetic import detection_case

from .conftest import load_case

SUMMARY = ("ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10", "ar100",
           "ar_small", "ar_medium", "ar_large")


def _everything(con, model: str) -> dict[str, list[tuple]]:
    """Every row the evaluation wrote and every row of its views, in one order."""
    rows = {table: con.sql(f"SELECT * EXCLUDE (model) FROM {table} WHERE model = '{model}' ORDER BY ALL").fetchall()
            for table in ("matches", "eval_ap")}
    rows["eval_summary"] = con.sql(f"SELECT {', '.join(SUMMARY)} FROM eval_summary WHERE model = '{model}'").fetchall()
    rows["eval_per_class"] = con.sql(f"SELECT * FROM eval_per_class(model_name := '{model}', iou_threshold := 0.75) ORDER BY ALL").fetchall()
    rows["evaluations"] = con.sql(f"SELECT images, labels, predictions FROM evaluations WHERE model = '{model}'").fetchall()
    return rows


def _chunked_and_whole(con, model: str, budget: int, monkeypatch) -> tuple[dict, dict, int]:
    whole = qmdb.evaluate(con, model, progress=False)
    one = _everything(con, model)
    monkeypatch.setattr(chunked, "BUDGET", budget)
    dataset = con.sql(f"SELECT dataset FROM evaluations WHERE model = '{model}'").fetchall()[0][0]
    n_ranges = len(Ranges(con, model, dataset).ranges)
    parts = qmdb.evaluate(con, model, progress=False)
    assert parts.stats == whole.stats
    return one, _everything(con, model), n_ranges


def test_ranges_of_images_give_the_rows_of_one_range(monkeypatch):
    # crowd regions, ignored (out of area range) boxes, float32-rounded scores tied across images,
    # images with no labels and images with no predictions
    gt, dt, images = detection_case(seed=5, n_images=120, boxes_per_image=6, n_classes=5, crowd_rate=0.08,
                                    empty_rate=0.1, only_predictions_rate=0.1)
    assert gt.crowd.any() and len(np.unique(dt.score)) < len(dt)
    assert len(set(images) - set(gt.image)) and len(set(images) - set(dt.image))
    con = qmdb.connect()
    load_case(con, gt, dt, images, 5)
    one, parts, n_ranges = _chunked_and_whole(con, "det-model", 7, monkeypatch)
    assert n_ranges > 50                                  # a few images per range
    assert len(one["matches"]) == 10 * (len(gt) + len(dt))
    assert parts == one
    reference = cocoeval(*coco_dicts(gt, dt, images, 5))
    np.testing.assert_allclose(np.array(parts["eval_summary"][0], dtype=float), reference.stats, rtol=0, atol=1e-12)


def test_ties_across_ranges_follow_coco_image_ids(tmp_path, monkeypatch):
    """Images listed out of COCO id order, one prediction each, all tied: ranges follow qmdb's image ids,
    the accumulation COCO's."""
    rng = np.random.default_rng(3)
    ids = rng.permutation(np.arange(1, 41) * 5)
    hit = rng.random(40) < 0.5
    dataset = {"images": [{"id": int(i), "file_name": f"{i}.png", "width": 100, "height": 100} for i in ids],
               "annotations": [{"id": n + 1, "image_id": int(i), "category_id": 1, "bbox": [10.0, 10.0, 40.0, 40.0],
                                "area": 1600.0, "iscrowd": 0} for n, i in enumerate(ids)],
               "categories": [{"id": 1, "name": "thing"}]}
    results = [{"image_id": int(i), "category_id": 1, "score": 0.5,
                "bbox": [10.0, 10.0, 40.0, 40.0] if h else [55.0, 55.0, 40.0, 40.0]} for i, h in zip(ids, hit)]
    (tmp_path / "gt.json").write_text(json.dumps(dataset))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    con = qmdb.connect()
    qmdb.import_dataset(con, "coco", tmp_path / "gt.json", name="ties")
    qmdb.import_predictions(con, "coco", tmp_path / "dt.json", model="tied", dataset="ties")
    one, parts, n_ranges = _chunked_and_whole(con, "tied", 2, monkeypatch)
    assert n_ranges == 40
    assert parts == one
    summary = np.array(parts["eval_summary"][0], dtype=float)   # NULL where COCO has -1 (no small boxes)
    np.testing.assert_allclose(np.nan_to_num(summary, nan=-1.0), cocoeval(dataset, results).stats, rtol=0, atol=1e-12)


@pytest.mark.parametrize("budget", [1, 3, 40])
def test_class_groups_give_the_curves_of_one_pass(detection_project, budget):
    from qmdb.evaluation import accumulate, match
    from qmdb.evaluation.params import AREA_RANGES, IOU_THRESHOLDS

    _, (gt, dt, _, k) = detection_project
    m = match(gt, dt)
    whole = accumulate(gt, dt, m, k)
    kept = chunked.Kept(k, len(AREA_RANGES), len(IOU_THRESHOLDS))
    kept.add(gt, dt, m)
    parts = chunked.accumulate_by_class(kept, budget=budget)
    for name in ("precision", "recall", "gts", "dets"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))


def test_a_class_over_the_budget_is_scored_a_threshold_at_a_time(detection_project, monkeypatch):
    """The path of a class with more detections than the budget (at 1 M images a class of
    millions): its curves one IoU threshold at a time, every number that of one pass."""
    from qmdb.evaluation import accumulate, match
    from qmdb.evaluation.params import AREA_RANGES, IOU_THRESHOLDS

    _, (gt, dt, _, k) = detection_project
    m = match(gt, dt)
    whole = accumulate(gt, dt, m, k)
    kept = chunked.Kept(k, len(AREA_RANGES), len(IOU_THRESHOLDS))
    kept.add(gt, dt, m)
    widths, curves = [], chunked.curves
    monkeypatch.setattr(chunked, "curves", lambda *a, **kw: widths.append(a[5].shape[1]) or curves(*a, **kw))
    per_class = np.bincount(dt.cls, minlength=k)
    budget = int(np.median(per_class))            # some classes over it, some under
    parts = chunked.accumulate_by_class(kept, budget=budget)
    assert 1 in widths and len(IOU_THRESHOLDS) in widths
    for name in ("precision", "recall", "gts", "dets"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
