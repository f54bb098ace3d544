"""saturation: mean HSV saturation."""

import cv2

from ..registry import image_metric


@image_metric(version=2, unit="0..1")
def saturation(image):
    """Mean HSV saturation, (max − min) / max of R, G, B per pixel: 0 = grey, 1 = pure colours."""
    # a black pixel (max = 0) has chroma 0: dividing by max(V, 1) gives it 0 without a NaN
    return cv2.mean(cv2.divide(image.chroma, cv2.max(image.channel_max, 1), dtype=cv2.CV_32F))[0]
