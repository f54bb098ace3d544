"""box_brightness: mean luminance inside the box."""

import cv2

from ..registry import label_metric


@label_metric(version=2, unit="0..1")
def box_brightness(image, boxes):
    """Mean luminance (BT.601 grey / 255) of the pixels inside the box (clipped to the image)."""
    return boxes.crop_stat(image.gray, lambda crop: cv2.mean(crop)[0] / 255.0)
