"""border_distance: how close the box comes to an image edge."""

import numpy as np

from ..registry import label_metric


@label_metric(version=1, unit="px; 0 = touches an edge, < 0 = crosses it")
def border_distance(image, boxes):
    """Smallest distance from the box to an image edge: min(x, y, W − x − w, H − y − h)."""
    right = boxes.width - boxes.x - boxes.w
    bottom = boxes.height - boxes.y - boxes.h
    return boxes.masked(np.minimum.reduce([boxes.x, boxes.y, right, bottom]))
