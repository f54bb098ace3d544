"""Analysis resolution: large files are decoded once at a reduced scale, sizes and boxes stay the file's."""

import cv2
import numpy as np
import pytest
from qmdb.udfs import registry
from qmdb.udfs.boxes import Boxes
from qmdb.udfs.compute import image_values, label_values
from qmdb.udfs.pixels import ANALYSIS_SIDE, read, reduction

import qmdb

from .conftest import photos

REDUCED_2 = cv2.IMREAD_REDUCED_COLOR_2 | cv2.IMREAD_IGNORE_ORIENTATION


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """A 3840×2160 JPEG and a 2000×1500 one made from a real photograph, and a 4096×3072 PNG."""
    folder = tmp_path_factory.mktemp("large")
    photo = photos()["china"]
    files = {}
    for name, size in (("hd.jpg", (3840, 2160)), ("small.jpg", (2000, 1500)), ("big.png", (4096, 3072))):
        cv2.imwrite(str(folder / name), cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC))
        files[name] = folder / name
    return files


@pytest.mark.parametrize(("size", "scale"), [((640, 480), 1), ((1024, 768), 1), ((1920, 1080), 1), ((2047, 1536), 1),
                                             ((2048, 1536), 2), ((4000, 3000), 2), ((4096, 3072), 4), ((8192, 100), 8),
                                             ((20000, 20000), 8)])
def test_the_scale_keeps_the_longest_side_at_or_above_the_analysis_side(size, scale):
    assert reduction(*size) == scale
    assert max(size) // scale >= ANALYSIS_SIDE or scale == 1
    assert reduction(*size, side=0) == 1


def test_a_large_jpeg_is_decoded_once_at_half_scale_and_keeps_its_size(large):
    image = read(large["hd.jpg"])
    assert (image.width, image.height) == (3840, 2160)
    assert (image.pixel_width, image.pixel_height) == (1920, 1080) and image.scale == 2.0
    np.testing.assert_array_equal(image.bgr, cv2.imread(str(large["hd.jpg"]), REDUCED_2))
    values, problems = image_values(image, registry.metrics("image", ["width", "height", "brightness"]))
    assert problems == []
    assert (values["width"], values["height"]) == (3840, 2160)
    gray = cv2.cvtColor(image.bgr, cv2.COLOR_BGR2GRAY)  # levels: every other pixel of every other row
    assert values["brightness"] == pytest.approx(gray[::2, ::2].mean() / 255)


def test_images_below_twice_the_analysis_side_keep_every_pixel(large):
    image = read(large["small.jpg"])
    assert image.scale == 1.0 and image.bgr.shape == (1500, 2000, 3)
    np.testing.assert_array_equal(image.bgr, cv2.imread(str(large["small.jpg"])))


def test_other_formats_use_opencvs_reduced_decoding(large):
    image = read(large["big.png"])
    assert (image.width, image.height, image.scale) == (4096, 3072, 4.0)
    np.testing.assert_array_equal(image.bgr, cv2.imread(str(large["big.png"]), cv2.IMREAD_REDUCED_COLOR_4))


def test_full_resolution_on_request(large):
    image = read(large["hd.jpg"])
    assert image.full_resolution.bgr.shape == (2160, 3840, 3)
    np.testing.assert_array_equal(image.full_resolution.bgr, cv2.imread(str(large["hd.jpg"])))
    assert read(large["hd.jpg"], side=0).bgr.shape == (2160, 3840, 3)


def test_analysis_values_stay_close_to_full_resolution_ones(large):
    names = ["brightness", "contrast", "saturation", "colorfulness", "redness", "entropy", "phash"]
    reduced, _ = image_values(read(large["hd.jpg"]), registry.metrics("image", names))
    full, _ = image_values(read(large["hd.jpg"], side=0), registry.metrics("image", names))
    for name in ("brightness", "saturation", "redness"):
        assert reduced[name] == pytest.approx(full[name], abs=0.01), name
    assert reduced["contrast"] == pytest.approx(full["contrast"], rel=0.05)
    assert reduced["colorfulness"] == pytest.approx(full["colorfulness"], rel=0.05)
    assert reduced["entropy"] == pytest.approx(full["entropy"], abs=0.1)
    assert (reduced["phash"] ^ full["phash"]).bit_count() <= 4


def test_blur_still_lowers_sharpness_at_analysis_resolution(large, tmp_path):
    blurred = tmp_path / "blurred.jpg"
    cv2.imwrite(str(blurred), cv2.GaussianBlur(cv2.imread(str(large["hd.jpg"])), (0, 0), 3))
    metrics = registry.metrics("image", ["sharpness", "blurriness"])
    sharp, _ = image_values(read(large["hd.jpg"]), metrics)
    soft, _ = image_values(read(blurred), metrics)
    assert soft["sharpness"] < 0.5 * sharp["sharpness"] and soft["blurriness"] > sharp["blurriness"]


def test_boxes_in_file_pixels_read_the_matching_analysed_pixels(large):
    image = read(large["hd.jpg"])
    boxes = Boxes(np.array([[200.0, 400.0, 800.0, 600.0], [3600.0, 2000.0, 800.0, 800.0]]), np.array(["a", "b"]),
                  image.width, image.height)
    values, problems = label_values(image, boxes, registry.metrics("label", ["box_brightness", "area_rel", "out_of_bounds"]))
    assert problems == []
    gray = cv2.cvtColor(image.bgr, cv2.COLOR_BGR2GRAY)
    assert values["box_brightness"][0] == pytest.approx(gray[200:500, 100:500].mean() / 255)
    assert values["box_brightness"][1] == pytest.approx(gray[1000:1080, 1800:1920].mean() / 255)
    assert values["area_rel"][0] == pytest.approx(800 * 600 / (3840 * 2160))
    assert values["out_of_bounds"].tolist() == [False, True]
    full = read(large["hd.jpg"], side=0)
    full_values, _ = label_values(full, boxes, registry.metrics("label", ["box_brightness"]))
    assert values["box_brightness"][0] == pytest.approx(full_values["box_brightness"][0], abs=0.01)


def test_sql_functions_read_the_file_size_and_the_analysed_pixels(large):
    con = qmdb.connect()
    hd = str(large["hd.jpg"])
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('large', '', 'folders')")
    con.execute("INSERT INTO images (dataset, path) VALUES ('large', ?)", [hd])
    assert con.sql("SELECT width(image_id), height(image_id) FROM images").fetchall() == [(3840, 2160)]
    gray = cv2.cvtColor(cv2.imread(hd, REDUCED_2), cv2.COLOR_BGR2GRAY)
    assert con.sql("SELECT brightness(image_id) FROM images").fetchall()[0][0] == pytest.approx(gray[::2, ::2].mean() / 255)
