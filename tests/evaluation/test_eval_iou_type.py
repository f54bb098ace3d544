"""Masks and keypoints stored like boxes: `iou_type` in the eval tables, `eval_summary` and the views."""

import numpy as np
import pytest

import qmdb
from qmdb.evaluation.schema import MIGRATIONS

pytest.importorskip("pycocotools")


def _masks_module(name: str):
    """tests/masks/<name>.py, whose seeded mask and keypoint case this reuses."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(f"_masks_{name}", Path(__file__).parents[1] / "masks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _masks_module("conftest").build
_segm = _masks_module("test_segm_eval")
KP_NAMES, SEGM_NAMES, project, reference = _segm.KP_NAMES, _segm.SEGM_NAMES, _segm.project, _segm.reference


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return build(tmp_path_factory.mktemp("segm"))


def test_segm_and_bbox_side_by_side_equal_pycocotools(files):
    con = project(files, "instances", "results")
    qmdb.evaluate(con, "m", progress=False)
    bbox = con.sql("SELECT ap, ap50 FROM eval_summary WHERE iou_type = 'bbox'").fetchall()
    report = qmdb.evaluate(con, "m", iou_type="segm")
    ev = reference(files["instances"], files["results"], "segm")
    row = con.sql(f"SELECT {', '.join(SEGM_NAMES)} FROM eval_summary WHERE model = 'm' AND iou_type = 'segm'").fetchall()
    coco = np.where(ev.stats == -1, np.nan, ev.stats)                        # the view's NULL is COCO's -1
    np.testing.assert_allclose(np.array(row[0], dtype=float), coco, rtol=0, atol=1e-12)
    np.testing.assert_allclose([report.stats[k] for k in SEGM_NAMES], ev.stats, rtol=0, atol=1e-12)
    assert con.sql("SELECT ap, ap50 FROM eval_summary WHERE iou_type = 'bbox'").fetchall() == bbox   # untouched
    assert bbox[0][0] != pytest.approx(row[0][0])                                       # masks are not boxes
    # the per-class view reads the mask matches and their AP
    per_class = con.sql("SELECT class, ap FROM eval_per_class(iou_type_name := 'segm') ORDER BY class").fetchall()
    stored = con.sql("SELECT class, ap FROM eval_ap WHERE iou_type = 'segm' AND threshold = 0.5 AND area_range = 'all' "
                     "AND max_dets = 100 ORDER BY class").fetchall()
    assert per_class == [(c, a) for c, a in stored if any(c == p for p, _ in per_class)] and per_class
    counts = dict(con.sql("SELECT iou_type, count(*) FROM matches WHERE threshold = 0.5 AND item_type = 'label' "
                          "GROUP BY 1").fetchall())
    assert set(counts) == {"bbox", "segm"}
    # a slice check reads the evaluation it names: its AP on everything is eval_summary's
    from qmdb.evaluation import add_check, run_checks

    add_check(con, "mask_ap", "ap", iou_type="segm", threshold=0.0)
    add_check(con, "box_ap", "ap", threshold=0.0)
    got = {r.check_name: r.value for r in run_checks(con, n_boot=5)}
    assert got["mask_ap"] == pytest.approx(row[0][0], abs=1e-9)
    assert got["box_ap"] == pytest.approx(bbox[0][0], abs=1e-9)
    qmdb.evaluate(con, "m", iou_type="segm")                                     # a rerun replaces its own rows
    assert dict(con.sql("SELECT iou_type, count(*) FROM matches WHERE threshold = 0.5 AND item_type = 'label' "
                        "GROUP BY 1").fetchall()) == counts


def test_keypoints_summary_row_equals_pycocotools(files):
    con = project(files, "keypoints", "keypoint_results")
    qmdb.evaluate(con, "m", iou_type="keypoints")
    ev = reference(files["keypoints"], files["keypoint_results"], "keypoints")
    row = con.sql("SELECT ap, ap50, ap75, ap_medium, ap_large, ar100, ar_medium, ar_large FROM eval_summary "
                  "WHERE iou_type = 'keypoints'").fetchall()[0]
    coco = np.where(ev.stats == -1, np.nan, ev.stats)[[0, 1, 2, 3, 4, 5, 8, 9]]
    np.testing.assert_allclose(np.array(row, dtype=float), coco, rtol=0, atol=1e-12)
    assert len(KP_NAMES) == 10


def test_migration_keeps_stored_results_and_reruns(tmp_path):
    """A project made before `iou_type`: its rows become bbox rows, and the step can run again (repair)."""
    import duckdb

    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute(MIGRATIONS[0])
    raw.execute("INSERT INTO evaluations VALUES ('m', 'd', 'detection', 1, 1, 1, 0.1, now())")
    raw.execute("INSERT INTO eval_ap VALUES ('m', 'c', 0.5, 'all', 100, 0.25, 0.5, 4, 8)")
    raw.execute("INSERT INTO matches VALUES ('m', 0.5, 'label', 1, 'c', NULL, 1, NULL, NULL, 'FN', false, NULL, NULL)")
    raw.close()
    con = qmdb.connect(str(path))        # qmdb migrates it (the missing schema_migrations rows: every step runs)
    con.execute(MIGRATIONS[2])           # and once more, as `repair` would
    assert con.sql("SELECT model, iou_type, ap FROM eval_ap").fetchall() == [("m", "bbox", 0.25)]
    assert con.sql("SELECT model, iou_type FROM evaluations").fetchall() == [("m", "bbox")]
    assert con.sql("SELECT iou_type FROM matches").fetchall() == [("bbox",)]
    assert con.sql("SELECT ap50 FROM eval_summary").fetchall() == [(0.25,)]
    con.close()
