"""Label metrics on boxes drawn on real photographs, against numpy on the same pixels."""

import cv2
import numpy as np
import pytest

from qmdb.udfs import registry
from qmdb.udfs.boxes import Boxes
from qmdb.udfs.compute import label_values
from qmdb.udfs.pixels import Image

from .conftest import photos

CHINA = photos()["china"]  # 427 × 640
XYWH = np.array([
    [150, 40, 120, 150],      # a building
    [155, 45, 120, 150],      # the same building, shifted: a duplicate
    [0, 0, 640, 60],          # the sky, touching three edges
    [600, 400, 80, 60],       # leaves the image
    [300.5, 200.25, 5, 40],   # tiny, fractional
    [0, 0, 640, 427],         # the whole image
    [np.nan] * 4,             # an image-level label: no box
])
CLASSES = np.array(["building", "building", "sky", "sky", "car", "scene", "scene"], dtype=object)
SHARE = np.array([0.4, 0.4, 0.3, 0.3, 0.1, 0.2, 0.2])


@pytest.fixture(scope="module")
def got():
    boxes = Boxes(XYWH, CLASSES, 640, 427, SHARE)
    values, problems = label_values(Image(CHINA), boxes, registry.metrics("label"))
    assert problems == []
    return values


def as_list(values):
    return [None if m else v for v, m in zip(np.ma.getdata(values).tolist(), np.ma.getmaskarray(values))]


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0, min(ax1, bx1) - max(a[0], b[0])) * max(0, min(ay1, by1) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_geometry(got):
    x, y, w, h = XYWH.T
    assert as_list(got["box_area"])[:6] == pytest.approx((w * h)[:6])
    assert as_list(got["area_rel"])[5] == pytest.approx(1.0)
    assert as_list(got["box_aspect_ratio"])[4] == pytest.approx(5 / 40)
    assert as_list(got["center_x"])[0] == pytest.approx(210 / 640)
    assert as_list(got["center_y"])[0] == pytest.approx(115 / 427)
    assert as_list(got["border_distance"])[:4] == pytest.approx([40, 45, 0, -40])
    assert as_list(got["out_of_bounds"])[:6] == [False, False, False, True, False, False]
    assert as_list(got["is_tiny"])[:6] == [False, False, False, False, True, False]
    assert as_list(got["is_too_large"])[:6] == [False, False, False, False, False, True]
    for name in ("box_area", "center_x", "border_distance", "out_of_bounds", "box_brightness", "max_iou_same_class"):
        assert as_list(got[name])[6] is None, name  # no box, no value


def test_inside_the_box_matches_numpy_on_the_crop(got):
    gray = cv2.cvtColor(CHINA, cv2.COLOR_BGR2GRAY)
    p = np.pad(gray.astype(np.float64), 1, mode="reflect")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * p[1:-1, 1:-1]
    crops = {0: (slice(40, 190), slice(150, 270)), 3: (slice(400, 427), slice(600, 640)),
             4: (slice(200, 241), slice(300, 306))}  # pixels touched, clipped to the image
    for i, (rows, cols) in crops.items():
        assert as_list(got["box_brightness"])[i] == pytest.approx(gray[rows, cols].mean() / 255, rel=1e-9)
        assert as_list(got["box_contrast"])[i] == pytest.approx(gray[rows, cols].std() / 255, rel=1e-9)
        assert as_list(got["box_sharpness"])[i] == pytest.approx(lap[rows, cols].var(), rel=1e-9)
    sky, building = as_list(got["box_sharpness"])[2], as_list(got["box_sharpness"])[0]
    assert sky < building  # the sky is smoother than the temple


def test_darkened_and_blurred_boxes_move_the_right_way(got):
    boxes = Boxes(XYWH[:1], CLASSES[:1], 640, 427)
    dark = (CHINA * 0.3).astype(np.uint8)
    blurred = cv2.GaussianBlur(CHINA, (0, 0), 3)
    metrics = registry.metrics("label", ["box_brightness", "box_sharpness"])
    dark_values, _ = label_values(Image(dark), boxes, metrics)
    blurred_values, _ = label_values(Image(blurred), boxes, metrics)
    assert dark_values["box_brightness"][0] < 0.5 * as_list(got["box_brightness"])[0]
    assert blurred_values["box_sharpness"][0] < 0.2 * as_list(got["box_sharpness"])[0]


def test_overlaps_and_class_frequency(got):
    same, other = as_list(got["max_iou_same_class"]), as_list(got["max_iou_other_class"])
    assert same[0] == pytest.approx(iou(XYWH[0], XYWH[1])) and same[0] > 0.8
    assert same[1] == same[0]
    assert other[0] == pytest.approx(iou(XYWH[0], XYWH[5]))  # the whole-image "scene" box
    assert same[4] == 0 and other[4] == pytest.approx(iou(XYWH[4], XYWH[5]))
    assert as_list(got["class_frequency"]) == pytest.approx(SHARE.tolist())
