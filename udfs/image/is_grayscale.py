"""is_grayscale: the colour channels carry (almost) no colour."""

import cv2

from ..registry import image_metric

TOLERANCE = 8  # max − min of R, G, B allowed for a "grey" pixel (JPEG chroma noise)
SHARE = 0.01  # share of pixels allowed to be more colourful than that


@image_metric(version=3, type="BOOLEAN")
def is_grayscale(image):
    """True when at most 1 % of the pixels at colour resolution (2×2 averages) have max(R, G, B) − min(R, G, B) above 8."""
    half = image.half
    colourful = cv2.countNonZero(cv2.compare(half.chroma, TOLERANCE, cv2.CMP_GT))
    return colourful <= SHARE * half.pixel_width * half.pixel_height
