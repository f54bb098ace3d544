"""TIDE's error breakdown against the `tidecv` package on the same boxes."""

import numpy as np
import pytest

import qmdb
from qmdb.evaluation import error_breakdown, find_errors
from qmdb.evaluation.detection import load
from qmdb.evaluation.reference import tidecv_run
from qmdb.evaluation.tide import SHORT_NAMES

pytest.importorskip("tidecv", reason="tidecv is not installed (pip install --no-deps -r requirements-interop.txt)")


def _reference(con, where="true"):
    """tidecv on the project's boxes of the images where `where` holds (image order, list order)."""
    labels, preds, _ = load(con, "det-model", "det")
    keep = {i for (i,) in con.sql(f"SELECT image_id FROM images WHERE {where}").fetchall()}
    order = [i for (i,) in con.sql("SELECT image_id FROM images ORDER BY image_id").fetchall() if i in keep]
    lab = sorted(labels.to_pylist(), key=lambda r: r["label_id"])
    pre = sorted(preds.to_pylist(), key=lambda r: r["prediction_id"])
    box = lambda r: [r["x"], r["y"], r["w"], r["h"]]  # noqa: E731
    gts = [r for r in lab if r["image_id"] in keep]
    dts = [r for r in pre if r["image_id"] in keep]
    tide, run = tidecv_run([(r["image_id"], r["class"], box(r), r["iscrowd"]) for r in gts],
                           [(r["image_id"], r["class"], r["score"], box(r)) for r in dts], order)
    return tide, run, gts, dts


@pytest.fixture(scope="module")
def project(detection_project):
    con, _ = detection_project
    find_errors(con, "det-model")
    return con


def test_breakdown_equals_tidecv(project):
    tide, run, _, _ = _reference(project)
    errors = tide.get_all_errors()
    ours = error_breakdown(project, "det-model").to_arrow_table().to_pylist()[0]
    assert ours["ap"] == pytest.approx(run.ap, abs=1e-9)
    for name, short in SHORT_NAMES.items():
        assert ours[name] == pytest.approx(errors["main"]["predictions"][short], abs=1e-9), name
    assert ours["false_positives"] == pytest.approx(errors["special"]["predictions"]["FalsePos"], abs=1e-9)
    assert ours["false_negatives"] == pytest.approx(errors["special"]["predictions"]["FalseNeg"], abs=1e-9)
    assert min(ours[f"n_{t}"] for t in SHORT_NAMES) > 0        # the case has every kind of error


def test_every_error_is_tidecvs(project):
    _, run, gts, dts = _reference(project)
    theirs = {(type(e).short_name, (dts[e.pred["_id"]]["prediction_id"] if hasattr(e, "pred") else None),
               (None if hasattr(e, "pred") else gts[e.gt["_id"]]["label_id"])) for e in run.errors}
    short = {k: v for k, v in SHORT_NAMES.items()}
    ours = set(project.sql("SELECT error_type, prediction_id, label_id FROM eval_errors "
                           "WHERE model = 'det-model' AND error_type IS NOT NULL").fetchall())
    ours = {(short[t], p if t != "missed" else None, l if t == "missed" else None) for t, p, l in ours}
    assert ours == theirs


def test_slices_equal_tidecv_on_their_images(project):
    where = "image_id % 2 = 0"
    tide, run, _, _ = _reference(project, where)
    rows = {r["part"]: r for r in error_breakdown(project, "det-model", where=where).to_arrow_table().to_pylist()}
    assert set(rows) == {"slice", "rest"}
    assert rows["slice"]["ap"] == pytest.approx(run.ap, abs=1e-9)
    assert rows["slice"]["missed"] == pytest.approx(tide.get_main_errors()["predictions"]["Miss"], abs=1e-9)
    by = error_breakdown(project, "det-model", by="image_id % 2 = 0").to_arrow_table().to_pylist()
    assert {r["part"]: r["ap"] for r in by}["true"] == pytest.approx(run.ap, abs=1e-9)
    assert sum(r["images"] for r in by) == rows["slice"]["images"] + rows["rest"]["images"]


def test_ties_crowds_empty_images_and_max_dets_equal_tidecv():
    """Two identical truths (the first wins a tie), a crowd region, an image without truth, 130 detections."""
    from qmdb.evaluation.matching import Boxes
    from .conftest import load_case

    rng = np.random.default_rng(3)
    gt_box = np.array([[10, 10, 50, 50], [10, 10, 50, 50], [200, 200, 80, 80], [300, 50, 60, 40],
                       [0, 0, 400, 300], [40, 40, 30, 30]], float)
    gt = Boxes(image=np.array([1, 1, 1, 2, 2, 2]), cls=np.array([0, 0, 1, 0, 0, 1]), box=gt_box,
               order=np.arange(6), area=gt_box[:, 2] * gt_box[:, 3],
               crowd=np.array([False, False, False, False, True, False]))
    n = 130
    dt_box = np.concatenate([[[12, 12, 50, 50], [30, 30, 50, 50], [15, 10, 50, 50], [205, 200, 80, 80],
                              [10, 10, 50, 50], [100, 100, 20, 20]],
                             np.round(np.c_[rng.uniform(0, 500, n), rng.uniform(0, 300, n), rng.uniform(5, 90, (n, 2))], 1)])
    dt = Boxes(image=np.r_[1, 1, 1, 1, 3, 3, np.full(n, 2)], cls=np.r_[0, 0, 1, 0, 0, 1, rng.integers(0, 2, n)],
               box=dt_box, order=np.arange(n + 6), score=np.r_[0.9, 0.9, 0.8, 0.7, 0.5, 0.5, np.round(rng.random(n), 2)])
    con = qmdb.connect()
    load_case(con, gt, dt, np.array([1, 2, 3]), 2)
    find_errors(con, "det-model")
    tide, run, gts, dts = _reference(con)
    ours = error_breakdown(con, "det-model").to_arrow_table().to_pylist()[0]
    assert ours["ap"] == pytest.approx(run.ap, abs=1e-9)
    for name, short in SHORT_NAMES.items():
        assert ours[name] == pytest.approx(tide.get_main_errors()["predictions"][short], abs=1e-9), name
    assert ours["predictions"] == 106                        # image 2 keeps its 100 best-scored detections
    theirs = sorted((type(e).short_name, dts[e.pred["_id"]]["prediction_id"]) for e in run.errors if hasattr(e, "pred"))
    mine = sorted(con.sql("SELECT error_type, prediction_id FROM eval_errors "
                          "WHERE error_type IS NOT NULL AND item_type = 'prediction'").fetchall())
    assert [(SHORT_NAMES[t], p) for t, p in mine] == theirs
    con.close()


def test_mask_breakdown_equals_tidecv_mask_mode(tmp_path):
    """iou_type='segm': mask IoU (polygons, RLE, a crowd region), tidecv's TIDE.MASK on the same RLEs."""
    pytest.importorskip("pycocotools")
    import importlib.util
    from pathlib import Path

    from tidecv import TIDE, Data

    from qmdb.evaluation.errors import _load
    from qmdb.evaluation.segm import _pred_rles
    from qmdb.importers.masks import to_rles

    def module(name):
        spec = importlib.util.spec_from_file_location(f"_m_{name}", Path(__file__).parents[1] / "masks" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    files = module("conftest").build(tmp_path)
    con = module("test_segm_eval").project(files, "instances", "results")
    find_errors(con, "m", iou_type="segm")
    ours = error_breakdown(con, "m", iou_type="segm").to_arrow_table().to_pylist()[0]
    labels, preds = _load(con, "m", "instances", "segm")
    lab, pre = labels.to_pylist(), preds.to_pylist()
    g_rle, d_rle = to_rles([r["mask"] for r in lab]), _pred_rles(preds)
    gt, dt = Data("gt"), Data("dt")
    for (image,) in con.sql("SELECT image_id FROM images ORDER BY TRY_CAST(source_id AS BIGINT), image_id").fetchall():
        gt.add_image(image, str(image))
    for k in sorted(range(len(lab)), key=lambda k: lab[k]["label_id"]):
        r = lab[k]
        (gt.add_ignore_region if r["iscrowd"] else gt.add_ground_truth)(r["image_id"], r["class"], None, g_rle[k])
    for k in sorted(range(len(pre)), key=lambda k: pre[k]["prediction_id"]):
        r = pre[k]
        dt.add_detection(r["image_id"], r["class"], r["score"], None, d_rle[k])
    tide = TIDE(mode=TIDE.MASK)
    run = tide.evaluate(gt, dt, name="dt")
    assert ours["ap"] == pytest.approx(run.ap, abs=1e-9) and 0 < ours["ap"] < 100
    for name, short in SHORT_NAMES.items():
        assert ours[name] == pytest.approx(tide.get_main_errors()["dt"][short], abs=1e-9), name
    theirs = {(type(e).short_name, pre[sorted(range(len(pre)), key=lambda k: pre[k]["prediction_id"])[e.pred["_id"]]]
               ["prediction_id"]) for e in run.errors if hasattr(e, "pred")}
    mine = set(con.sql("SELECT error_type, prediction_id FROM eval_errors WHERE iou_type = 'segm' "
                       "AND item_type = 'prediction' AND error_type IS NOT NULL").fetchall())
    assert {(SHORT_NAMES[t], p) for t, p in mine} == theirs
