"""is_grayscale: the colour channels carry (almost) no colour."""

import numpy as np

from ..registry import image_metric

TOLERANCE = 8  # max − min of R, G, B allowed for a "grey" pixel (JPEG chroma noise)
SHARE = 0.01  # share of pixels allowed to be more colourful than that


@image_metric(version=4, type="BOOLEAN")  # 4: computed on 1×1..3×3 images (3 failed there)
def is_grayscale(image):
    """True when at most 1 % of the pixels at colour resolution (2×2 averages) have max(R, G, B) − min(R, G, B) above 8."""
    half = image.half
    # numpy, not cv2.compare: OpenCV takes an array of up to 4 elements (a 1×1 half) for a scalar
    colourful = np.count_nonzero(half.chroma > TOLERANCE)
    return colourful <= SHARE * half.pixel_width * half.pixel_height
