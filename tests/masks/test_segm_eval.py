import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import qmdb
from qmdb.evaluation.segm import evaluate_segm
from qmdb.importers import import_dataset, import_predictions

SEGM_NAMES = ["ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large",
              "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large"]
KP_NAMES = ["ap", "ap50", "ap75", "ap_medium", "ap_large", "ar", "ar50", "ar75", "ar_medium", "ar_large"]


def reference(gt_file, dt_file, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        ev = COCOeval(gt, gt.loadRes(str(dt_file)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def project(files, gt, dt):
    con = qmdb.connect()
    import_dataset(con, "coco", files[gt], root=files[gt].parent / "images", name=gt)
    import_predictions(con, "coco", files[dt], model="m", dataset=gt)
    return con


def test_segm_equals_pycocotools_on_polygons_rle_crowd_empty_images_and_ties(segm_files):
    con = project(segm_files, "instances", "results")
    ev = reference(segm_files["instances"], segm_files["results"], "segm")
    report = evaluate_segm(con, "m")
    assert 0 < report.stats["ap"] < 1                      # a case that tests something
    np.testing.assert_allclose([report.stats[k] for k in SEGM_NAMES], ev.stats, rtol=0, atol=1e-12)
    # per class AP at IoU 0.5 (area all, 100 dets) as COCOeval's precision
    ap = {r["class"]: r["ap"] for r in report.ap.to_pylist()
          if r["threshold"] == 0.5 and r["area_range"] == "all" and r["max_dets"] == 100}
    for k, cat in enumerate(ev.params.catIds):
        p = ev.eval["precision"][0, :, k, 0, 2]
        name = ev.cocoGt.cats[cat]["name"]
        assert (ap.get(name) is None or np.isnan(ap[name])) if p[0] == -1 else ap[name] == pytest.approx(p.mean(), abs=1e-12)


def test_segm_matches_rows_follow_cocoeval(segm_files):
    con = project(segm_files, "instances", "results")
    ev = reference(segm_files["instances"], segm_files["results"], "segm")
    report = evaluate_segm(con, "m")
    rows = report.matches.to_pylist()
    tp = sum(1 for r in rows if r["item_type"] == "prediction" and r["threshold"] == 0.5 and r["outcome"] == "TP"
             and not r["ignored"])
    expected = sum(int((e["dtMatches"][0] > 0)[~e["dtIgnore"][0].astype(bool)].sum())
                   for e in ev.evalImgs if e is not None and e["aRng"] == [0, 1e10] and e["maxDet"] == 100)
    assert tp == expected > 0
    assert {r["iou_type"] for r in rows} == {"segm"}


def test_keypoints_equal_pycocotools_oks(segm_files):
    con = project(segm_files, "keypoints", "keypoint_results")
    ev = reference(segm_files["keypoints"], segm_files["keypoint_results"], "keypoints")
    report = evaluate_segm(con, "m", iou_type="keypoints")
    assert 0 < report.stats["ap"] < 1
    np.testing.assert_allclose([report.stats[k] for k in KP_NAMES], ev.stats, rtol=0, atol=1e-12)


def test_an_unknown_iou_type_is_refused(segm_files):
    con = project(segm_files, "instances", "results")
    with pytest.raises(qmdb.QmdbError, match="iou_type"):
        evaluate_segm(con, "m", iou_type="bbox")
