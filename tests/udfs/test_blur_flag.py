"""is_blurry at analysis scale: a σ = 2 px defocus is flagged, the sharp photograph is not."""

import cv2
import numpy as np
import pytest

from qmdb.udfs import registry
from qmdb.udfs.pixels import decode

from .conftest import photos

is_blurry = registry.get("image", "is_blurry").function


def camera_tile(photo, width=1920, height=1080):
    """A sharp camera-size photograph: the photo mirror-tiled (no interpolation), cropped to width × height."""
    while photo.shape[0] < height or photo.shape[1] < width:
        photo = np.concatenate([np.concatenate([photo, photo[:, ::-1]], 1),
                                np.concatenate([photo[::-1], photo[::-1, ::-1]], 1)], 0)
    return np.ascontiguousarray(photo[:height, :width])


def jpeg_image(bgr):
    return decode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].ravel())


@pytest.mark.parametrize("name", ["china", "astronaut", "coffee"])
def test_a_two_pixel_defocus_is_flagged_and_the_sharp_photo_is_not(name):
    sharp = camera_tile(photos()[name])
    image = jpeg_image(sharp)
    assert image.scale == 1.0  # 1080p is analysed at full scale
    assert is_blurry(image) is False
    assert is_blurry(jpeg_image(cv2.GaussianBlur(sharp, (0, 0), 2))) is True


def test_a_tiny_image_has_no_blur_value():
    assert is_blurry(decode(cv2.imencode(".png", np.zeros((1, 5, 3), np.uint8))[1].ravel())) is None
