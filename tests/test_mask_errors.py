"""Label-error views on masks and polygons: a small COCO project with drawn shapes on crops of
scikit-learn's photographs, with known faults injected (a shrunken mask, a missing mask, a swapped
class, a bowtie polygon); the views find exactly those."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pyarrow as pa
import pytest
from pycocotools import mask as mask_api
from sklearn.datasets import load_sample_images

import qmdb
from qmdb.importers import import_dataset, import_predictions
from qmdb.udfs.semantic import ious

W, H = 200, 160
CLASSES = ["disc", "square"]


def _rle(mask: np.ndarray) -> dict:
    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _disc(cx: int, cy: int, r: int) -> np.ndarray:
    return cv2.circle(np.zeros((H, W), np.uint8), (cx, cy), r, 1, -1)


def _square(x: int, y: int, side: int) -> np.ndarray:
    return cv2.rectangle(np.zeros((H, W), np.uint8), (x, y), (x + side - 1, y + side - 1), 1, -1)


def _polygon_mask(rings: list[list[float]]) -> np.ndarray:
    return mask_api.decode(mask_api.merge(mask_api.frPyObjects(rings, H, W)))


BOWTIE = [[120.0, 20.0, 180.0, 80.0, 180.0, 20.0, 120.0, 80.0]]


def _star() -> list[list[float]]:   # concave, never crossing itself
    angles = np.linspace(0, 2 * np.pi, 11)[:-1]
    radii = np.where(np.arange(10) % 2, 12.0, 28.0)
    return [np.stack([60 + radii * np.cos(angles), 110 + radii * np.sin(angles)], 1).ravel().tolist()]


def _build(folder):
    photos = load_sample_images().images
    (folder / "images").mkdir()
    images, anns, results = [], [], []

    def label(image_id, cls, segmentation, mask):
        rle = mask_api.encode(np.asfortranarray(mask))
        anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": CLASSES.index(cls) + 1, "iscrowd": 0,
                     "segmentation": segmentation, "area": float(mask_api.area(rle)),
                     "bbox": mask_api.toBbox(rle).tolist()})

    def predict(image_id, cls, mask, score):
        rle = mask_api.encode(np.asfortranarray(mask))
        results.append({"image_id": image_id, "category_id": CLASSES.index(cls) + 1, "segmentation": _rle(mask),
                        "bbox": mask_api.toBbox(rle).tolist(), "score": score})

    for image_id in (1, 2):
        images.append({"id": image_id, "file_name": f"img_{image_id}.png", "width": W, "height": H})
        cv2.imwrite(str(folder / "images" / f"img_{image_id}.png"),
                    np.ascontiguousarray(photos[image_id - 1][100:100 + H, 100:100 + W, ::-1]))
    # image 1: a well-drawn disc; a square drawn at a quarter of its size (the fault); a star polygon
    label(1, "disc", _rle(_disc(50, 50, 25)), _disc(50, 50, 25))
    predict(1, "disc", cv2.dilate(_disc(50, 50, 25), np.ones((3, 3), np.uint8)), 0.9)
    label(1, "square", _rle(_square(125, 35, 30)), _square(125, 35, 30))
    predict(1, "square", _square(110, 20, 60), 0.85)
    predict(1, "square", _square(112, 22, 40), 0.3)             # closer but not confident
    label(1, "disc", _star(), _polygon_mask(_star()))
    predict(1, "disc", _polygon_mask(_star()), 0.8)
    # image 2: a disc labelled square (the swap); a bowtie polygon; a disc nobody labelled
    label(2, "square", _rle(_disc(50, 60, 30)), _disc(50, 60, 30))
    predict(2, "disc", _disc(51, 60, 30), 0.9)
    predict(2, "square", _disc(50, 60, 30), 0.2)                 # the labelled class, unsure
    label(2, "square", BOWTIE, _polygon_mask(BOWTIE))
    predict(2, "square", _polygon_mask(BOWTIE), 0.7)
    predict(2, "disc", _disc(150, 125, 20), 0.8)                 # the missing label
    predict(2, "disc", _disc(30, 135, 15), 0.4)                  # below min_score
    gt, dt = folder / "instances.json", folder / "results.json"
    gt.write_text(json.dumps({"images": images, "annotations": anns,
                              "categories": [{"id": i + 1, "name": c} for i, c in enumerate(CLASSES)]}))
    dt.write_text(json.dumps(results))
    return gt, dt


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mask_errors")
    gt, dt = _build(folder)
    con = qmdb.connect()
    import_dataset(con, "coco", gt, root=folder / "images", name="shapes")
    import_predictions(con, "coco", dt, model="m", dataset="shapes")
    yield con, gt, dt
    con.close()


def _source(con, label_id):
    return con.sql(f"SELECT source_id FROM labels WHERE label_id = {label_id}").fetchall()[0][0]


def test_mask_iou_equals_pycocotools(project):
    con, gt, dt = project
    rows = con.sql("SELECT l.mask, p.mask, mask_iou(l.mask, p.mask) FROM labels l "
                   "JOIN predictions p USING (image_id)").fetchall()
    assert len(rows) == 3 * 4 + 2 * 5
    for a, b, iou in rows:
        rles = [{"size": m["size"], "counts": m["counts"].encode()} for m in (a, b)]
        assert iou == mask_api.iou([rles[0]], [rles[1]], [0])[0][0]
    assert 0 < min(r[2] for r in rows if r[2] > 0) and max(r[2] for r in rows) == 1.0
    null = "NULL::STRUCT(size INTEGER[], counts VARCHAR)"
    assert con.sql(f"SELECT mask_iou(mask, {null}) FROM labels LIMIT 1").fetchall() == [(None,)]
    small = {"size": [4, 4], "counts": mask_api.encode(np.asfortranarray(np.ones((4, 4), np.uint8)))["counts"].decode()}
    assert ious(pa.array([rows[0][0], small]), pa.array([small, small])).to_pylist() == [0.0, 1.0]  # sizes differ: 0


def test_bad_masks_find_the_shrunken_square_with_the_predicted_mask(project):
    con, _, dt = project
    rows = con.sql("SELECT label_id, class, iou, prediction_score, fault_score, suggested_mask "
                   "FROM errors_bad_masks()").fetchall()
    assert len(rows) == 1
    label_id, cls, iou, score, fault, suggested = rows[0]
    assert (_source(con, label_id), cls, score) == ("2", "square", 0.85)
    assert iou == pytest.approx(900 / 3600) and fault == pytest.approx(0.85 * (1 - 900 / 3600))
    assert suggested == json.loads(dt.read_text())[1]["segmentation"]
    assert con.sql("SELECT count(*) FROM errors_bad_masks(good_iou := 0.2)").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM errors_bad_masks(min_score := 0.2)").fetchall() == [(1,)]


def test_missing_masks_find_the_unlabelled_disc(project):
    con, _, _ = project
    rows = con.sql("SELECT class, score, best_iou FROM errors_missing_masks()").fetchall()
    assert rows == [("disc", 0.8, 0.0)]
    assert len(con.sql("SELECT * FROM errors_missing_masks(min_score := 0.3)").fetchall()) == 2


def test_mask_class_swaps_find_the_disc_labelled_square(project):
    con, _, _ = project
    rows = con.sql("SELECT label_id, class, suggested_class, score, same_score, iou FROM errors_mask_class_swaps()").fetchall()
    assert len(rows) == 1
    label_id, cls, suggested, score, same, iou = rows[0]
    assert (_source(con, label_id), cls, suggested, score, same) == ("4", "square", "disc", 0.9, 0.2)
    assert 0.9 < iou < 1
    assert con.sql("SELECT count(*) FROM errors_mask_class_swaps(min_score := 0.95)").fetchall() == [(0,)]


def test_self_intersecting_polygons_find_the_bowtie_only(project):
    con, _, _ = project
    assert con.sql("SELECT count(*) FROM labels WHERE polygon IS NOT NULL").fetchall() == [(2,)]
    rows = con.sql("SELECT label_id, crossings, ring_index, edges, crossing FROM errors_self_intersecting_polygons").fetchall()
    assert len(rows) == 1
    label_id, crossings, ring, edges, crossing = rows[0]
    assert (_source(con, label_id), crossings, ring, edges) == ("5", 1, 1, [1, 3])
    assert crossing == pytest.approx([150.0, 50.0])


def test_data_issues_lists_the_mask_views_any_client_runs(project):
    con, _, _ = project
    rows = con.sql("SELECT item_type, item_id, issue_type, source_view FROM data_issues() "
                   "WHERE source_view IN ('errors_self_intersecting_polygons', 'errors_mask_empty', 'errors_mask_outside_box')"
                   ).fetchall()
    ((bowtie,),) = con.sql("SELECT label_id FROM errors_self_intersecting_polygons").fetchall()
    assert ("label", bowtie, "self_intersecting_polygon", "errors_self_intersecting_polygons") in rows
    for view in ("errors_mask_empty", "errors_mask_outside_box()"):
        ((n,),) = con.sql(f"SELECT count(*) FROM {view}").fetchall()
        assert sum(r[3] == view.rstrip("()") for r in rows) == n
