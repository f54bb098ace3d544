"""box_contrast: spread of the luminance inside the box."""

import cv2

from ..registry import label_metric


@label_metric(version=2, unit="0..0.5")
def box_contrast(image, boxes):
    """Standard deviation of the luminance / 255 inside the box (RMS contrast)."""
    return boxes.crop_stat(image.gray, lambda crop: cv2.meanStdDev(crop)[1][0, 0] / 255.0)
