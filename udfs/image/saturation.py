"""saturation: mean HSV saturation."""

import cv2

from ..registry import image_metric


@image_metric(version=3, unit="0..1")
def saturation(image):
    """Mean HSV saturation, (max − min) / max of R, G, B per pixel at colour resolution (2×2 averages): 0 = grey, 1 = pure colours."""
    half = image.half
    # a black pixel (max = 0) has chroma 0: dividing by max(V, 1) gives it 0 without a NaN
    return cv2.mean(cv2.divide(half.chroma, cv2.max(half.channel_max, 1), dtype=cv2.CV_32F))[0]
