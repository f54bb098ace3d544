"""is_too_large: the box covers nearly the whole image."""

from ..registry import label_metric

THRESHOLD = 0.9  # share of the image area


@label_metric(version=1, type="BOOLEAN")
def is_too_large(image, boxes):
    """True when the box covers more than 90 % of the image area."""
    return boxes.masked(boxes.w * boxes.h > THRESHOLD * boxes.width * boxes.height)
