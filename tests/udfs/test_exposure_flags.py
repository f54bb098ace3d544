"""is_dark / is_overexposed agree with CleanVision's dark / light rules on real photographs.

CleanVision 0.3.7 (`cleanvision/issue_managers/image_property.py`): a pixel's brightness is
sqrt(0.241 R² + 0.691 G² + 0.068 B²) / 255; an image is dark when its 99th brightness percentile
is below 0.32, light when 1 − its 5th percentile is below 0.05. Written out here so that the test
needs no CleanVision.
"""

import cv2
import numpy as np
import pytest
import skimage.data

from qmdb.udfs import registry
from qmdb.udfs.pixels import Image

from .conftest import photos

is_dark = registry.get("image", "is_dark").function
is_overexposed = registry.get("image", "is_overexposed").function


def cleanvision(bgr):
    """(dark, light) by CleanVision's default rules."""
    b, g, r = (bgr[..., k].astype(float) for k in range(3))
    brightness = np.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255
    p5, p99 = np.percentile(brightness, [5, 99])
    return bool(p99 < 0.32), bool(1 - p5 < 0.05)


def hubble_crops(n=40, side=300, seed=0):
    """Random crops of Hubble's deep field (BGR): mostly black sky with stars and galaxies."""
    sky = np.ascontiguousarray(skimage.data.hubble_deep_field()[..., ::-1])
    rng = np.random.default_rng(seed)
    ys, xs = rng.integers(0, sky.shape[0] - side, n), rng.integers(0, sky.shape[1] - side, n)
    return [sky[y:y + side, x:x + side] for y, x in zip(ys, xs)]


def exposures():
    """Each photograph as is, darkened (×0.1, ×0.25, ×0.4) and brightened (+100, +180, +230)."""
    out = []
    for bgr in photos().values():
        out.append(bgr)
        out += [cv2.convertScaleAbs(bgr, alpha=a) for a in (0.1, 0.25, 0.4)]
        out += [np.clip(bgr.astype(int) + d, 0, 255).astype(np.uint8) for d in (100, 180, 230)]
    return out


def test_near_black_astronomy_crops_are_dark_only_where_cleanvision_says_so():
    crops = hubble_crops()
    ours = [is_dark(Image(c)) for c in crops]
    theirs = [cleanvision(c)[0] for c in crops]
    assert ours == theirs
    assert not all(ours)  # stars make the brightest 1 % bright: the sky is not a dark photo
    old_rule = [Image(c).gray_percentile(0.95) < 64 for c in crops]
    assert sum(old_rule) > sum(ours)  # what the previous rule (95 % below grey 64) flagged


@pytest.mark.parametrize("flag, k", [(is_dark, 0), (is_overexposed, 1)])
def test_exposure_flags_agree_with_cleanvision_on_darkened_and_brightened_photos(flag, k):
    images = exposures()
    ours = [flag(Image(i)) for i in images]
    theirs = [cleanvision(i)[k] for i in images]
    assert ours == theirs
    assert 0 < sum(ours) < len(ours)
