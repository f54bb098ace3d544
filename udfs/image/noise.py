"""noise: Immerkær's fast estimate of Gaussian noise (1996)."""

import math

import cv2
import numpy as np

from ..registry import image_metric

KERNEL = np.array([1, -2, 1], np.float32)  # the 3×3 mask [[1,-2,1],[-2,4,-2],[1,-2,1]] is its outer product


@image_metric(version=2, unit="grey levels (σ)")
def noise(image):
    """Estimated standard deviation of the luminance noise (Immerkær 1996), interior pixels."""
    if image.pixel_width < 3 or image.pixel_height < 3:
        return None
    response = cv2.sepFilter2D(image.gray, cv2.CV_16S, KERNEL, KERNEL)[1:-1, 1:-1]
    total = cv2.norm(response, cv2.NORM_L1)
    return math.sqrt(math.pi / 2) * total / (6 * (image.pixel_width - 2) * (image.pixel_height - 2))
