"""out_of_bounds: the box leaves the image."""

from ..registry import label_metric
from .border_distance import border_distance


@label_metric(version=1, type="BOOLEAN")
def out_of_bounds(image, boxes):
    """True when part of the box lies outside the image (border_distance < 0)."""
    return border_distance(image, boxes) < 0
