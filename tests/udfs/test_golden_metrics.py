"""Golden test: every built-in image metric, as the registry computes it (the fused statistics pass),
against the frozen pre-fusion implementation (`reference_metrics`) on real photographs, their dark and
blurred variants, grey and astronomy images, tiny and odd-sized ones, a camera-size JPEG decoded at
reduced scale, and the demo project's images.

Tolerance (stated in the README): booleans, integers and the perceptual hash exactly equal; every
DOUBLE within 1e-9 relative (or 1e-12 absolute): the fused pass reorders float sums, nothing else.
The grey-level statistics are the exception: they count a quarter sample of the pixels (every other
pixel of every other row, `qmdb.udfs.stats.sample`) where the reference counts them all, so each
has an absolute tolerance, the largest difference measured on the cases here, rounded up; the
flags they decide are counted: none may disagree here (nor did they on the photo sets of
bench/metrics.py).
"""

import math

import cv2
import duckdb
import numpy as np
import pytest
import skimage.data

from qmdb.udfs import registry
from qmdb.udfs.compute import image_values
from qmdb.udfs.pixels import Image, decode

from . import reference_metrics
from .conftest import variants

REL, ABS = 1e-9, 1e-12
# largest |sampled − every pixel| over the cases here, rounded up (0.00054, 0.00025, 0.0036 bits; on the
# photo sets of bench/metrics.py, 200 + 120 camera-size JPEGs: 0.00064, 0.00036, 0.0099 bits)
SAMPLED = {"brightness": 0.0006, "contrast": 0.0003, "entropy": 0.004}
SAMPLED_FLAGS = ("is_dark", "is_overexposed", "is_low_information")


def _extra() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(25)
    grey = {n: getattr(skimage.data, n)() for n in ("coins", "moon", "page", "text")}
    out = {n: cv2.cvtColor(a, cv2.COLOR_GRAY2BGR) for n, a in grey.items()}
    out["hubble_crop"] = np.ascontiguousarray(skimage.data.hubble_deep_field()[100:400, 50:451, ::-1])
    out["rocket_odd"] = np.ascontiguousarray(skimage.data.rocket()[:301, :407, ::-1])
    out["noise_odd"] = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out["white"] = np.full((20, 30, 3), 255, np.uint8)
    out["black"] = np.zeros((16, 9, 3), np.uint8)
    for shape in [(1, 1), (1, 5), (2, 2), (2, 3), (3, 3), (3, 8), (9, 2)]:
        out[f"tiny_{shape[0]}x{shape[1]}"] = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    return out


CASES = {**variants(), **_extra()}


def _values(image: Image, label: str) -> tuple[dict, dict]:
    metrics = registry.metrics("image")
    builtin = [m for m in metrics if m.function.__module__.startswith("qmdb.udfs.image.")]
    got, problems = image_values(image, builtin)
    assert problems == [], label
    want = reference_metrics.values(image.bgr, (image.width, image.height))
    assert set(got) == set(want), label
    return got, want


def _compare(image: Image, label: str) -> None:
    got, want = _values(image, label)
    for name, expected in want.items():
        value = got[name]
        if name in SAMPLED_FLAGS:
            continue  # counted over every case in test_sampled_flags_agree
        if name in SAMPLED:
            assert value is not None and abs(value - expected) <= SAMPLED[name], \
                f"{label}: {name} {value!r} vs {expected!r} on every pixel"
        elif expected is None or isinstance(expected, (bool, int, np.bool_)) and not isinstance(expected, float):
            assert value == expected, f"{label}: {name} {value!r} != {expected!r}"
        else:
            assert value is not None and math.isclose(value, expected, rel_tol=REL, abs_tol=ABS), \
                f"{label}: {name} {value!r} != {expected!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_metrics_equal_the_frozen_reference(name):
    _compare(Image(np.ascontiguousarray(CASES[name])), name)


def test_sampled_flags_agree():
    disagree = []
    for name, pixels in sorted(CASES.items()):
        got, want = _values(Image(np.ascontiguousarray(pixels)), name)
        disagree += [(name, flag) for flag in SAMPLED_FLAGS if got[flag] != want[flag]]
    assert disagree == []


def test_sampled_levels_keep_the_distribution_on_a_large_image():
    """A quarter sample of a sharp, textured image keeps its grey-level statistics (a 2×2 average would
    narrow them): noise at full contrast, σ = 73.6 levels, is measured within 0.001."""
    rng = np.random.default_rng(7)
    image = Image(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
    want = reference_metrics.values(image.bgr)
    got = registry.get("image", "contrast").function(image)
    assert abs(got - want["contrast"]) < 0.001
    averaged = Image(image.half.bgr)  # what a 2×2 average would measure instead: half the spread
    assert registry.get("image", "contrast").function(averaged) < 0.7 * want["contrast"]


def test_reduced_decode_of_a_camera_size_jpeg():
    chelsea = variants()["chelsea"]
    tile = np.concatenate([np.concatenate([chelsea, chelsea[:, ::-1]], 1)] * 2, 0)
    big = cv2.resize(tile, (2600, 1500), interpolation=cv2.INTER_CUBIC)
    image = decode(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].ravel())
    assert image.scale == 2.0
    _compare(image, "chelsea 2600×1500 JPEG at 1/2")


def test_demo_images(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        rows = con.sql("SELECT d.root, i.path FROM images i JOIN datasets d ON d.name = i.dataset "
                       "ORDER BY i.image_id LIMIT 8").fetchall()
    finally:
        con.close()
    assert rows
    from pathlib import Path

    for root, path in rows:
        _compare(decode(np.fromfile(str(Path(root) / path), np.uint8)), f"demo {path}")
