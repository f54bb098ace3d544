"""qmdb's matching and accumulation give COCOeval's numbers, bit for bit, on real-shaped cases."""

import numpy as np
import pytest

from qmdb.evaluation import accumulate, match
from qmdb.evaluation.iou import box_iou
from qmdb.evaluation.matching import Boxes
from qmdb.evaluation.reference import coco_dicts, cocoeval
from qmdb.evaluation.synthetic import detection_case

CASES = {
    "typical": dict(seed=1, n_images=80, boxes_per_image=8, n_classes=5),
    "crowd regions": dict(seed=2, n_images=80, boxes_per_image=8, n_classes=3, crowd_rate=0.25),
    "empty and prediction-only images": dict(seed=3, n_images=100, boxes_per_image=4, n_classes=4,
                                             empty_rate=0.3, only_predictions_rate=0.3),
    "many classes": dict(seed=4, n_images=100, boxes_per_image=8, n_classes=40),
    "over 100 detections per image": dict(seed=5, n_images=3, boxes_per_image=110, n_classes=1),
}


def ours(gt, dt, n_classes):
    m = match(gt, dt)
    return m, accumulate(gt, dt, m, n_classes)


@pytest.mark.parametrize("name", list(CASES))
def test_equals_pycocotools(name):
    case = CASES[name]
    gt, dt, images = detection_case(**case)
    _, acc = ours(gt, dt, case["n_classes"])
    reference = cocoeval(*coco_dicts(gt, dt, images, case["n_classes"]))
    np.testing.assert_allclose(acc.precision, reference.eval["precision"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(acc.recall, reference.eval["recall"], rtol=0, atol=1e-12)
    stats = np.array(list(acc.stats().values()))
    np.testing.assert_allclose(stats, reference.stats, rtol=0, atol=1e-6)
    assert stats[0] > 0  # a case that measures something


def test_more_than_max_dets_are_not_evaluated():
    gt, dt, _ = detection_case(**CASES["over 100 detections per image"])
    m, _ = ours(gt, dt, 1)
    assert m.dt_rank.max() >= 100
    assert not m.dt_kept[m.dt_rank >= 100].any() and m.dt_ignore[:, :, m.dt_rank >= 100].all()


def test_matches_agree_with_pycocotools_per_detection():
    gt, dt, images = detection_case(**CASES["crowd regions"])
    m, _ = ours(gt, dt, 3)
    reference = cocoeval(*coco_dicts(gt, dt, images, 3), summarize=False)
    # evalImgs of area 'all' carry pycocotools' match ids (1-based order of the lists).
    ref_match = {}
    for e in reference.evalImgs:
        if e is not None and e["aRng"] == [0, 1e10]:
            for d, gid in zip(e["dtIds"], e["dtMatches"][0]):
                ref_match[d] = int(gid)
    got = {int(dt.order[i]) + 1: int(gt.order[j]) + 1 if j >= 0 else 0 for i, j in enumerate(m.dt_match[0]) if m.dt_kept[i]}
    assert got == ref_match


def _boxes(rows, **extra):
    arr = np.array(rows, dtype=float)
    return Boxes(image=np.ones(len(rows), dtype=np.int64), cls=np.zeros(len(rows), dtype=np.int64), box=arr,
                 order=np.arange(len(rows)), **extra)


def test_detections_inside_a_crowd_region_are_ignored_not_false():
    gt = _boxes([[0, 0, 200, 200], [300, 300, 50, 50]], area=np.array([40000., 2500.]), crowd=np.array([True, False]))
    dt = _boxes([[10, 10, 20, 20], [50, 50, 20, 20], [300, 300, 50, 50], [500, 500, 10, 10]],
                score=np.array([0.9, 0.8, 0.7, 0.6]))
    m = match(gt, dt)
    assert m.dt_match[0].tolist() == [0, 0, 1, -1]            # the crowd absorbs two detections
    assert m.dt_ignore[0, 0].tolist() == [True, True, False, False]
    assert float(box_iou(dt.box[0], gt.box[0], np.array(True))) == 1.0


def test_a_regular_ground_truth_wins_over_a_better_ignored_one():
    # the small gt (area 100) is ignored in the 'medium' range; the detection overlaps it more
    gt = _boxes([[0, 0, 10, 10], [0, 0, 40, 40]], area=np.array([100., 1600.]), crowd=np.array([False, False]))
    dt = _boxes([[0, 0, 12, 12]], score=np.array([0.9]))
    m = match(gt, dt, iou_thresholds=np.array([0.05]))
    medium = 2
    assert m.dt_hit[0, 0, 0] and m.dt_match[0, 0] == 0      # 'all': the better IoU
    assert m.dt_hit[medium, 0, 0] and not m.dt_ignore[medium, 0, 0]  # 'medium': the regular gt, not ignored


def test_a_model_with_no_detections_scores_zero_like_pycocotools():
    gt, dt, images = detection_case(seed=6, n_images=20, boxes_per_image=4, n_classes=2)
    none = Boxes(image=dt.image[:0], cls=dt.cls[:0], box=dt.box[:0], order=dt.order[:0], score=dt.score[:0])
    _, acc = ours(gt, none, 2)
    reference = cocoeval(*coco_dicts(gt, none, images, 2))
    np.testing.assert_allclose(list(acc.stats().values()), reference.stats, atol=1e-12)
    assert acc.stats()["ap"] == 0.0
