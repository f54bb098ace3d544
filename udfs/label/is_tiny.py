"""is_tiny: too few pixels across to learn from."""

import numpy as np

from ..registry import label_metric

MIN_SIDE = 8  # px


@label_metric(version=1, type="BOOLEAN")
def is_tiny(image, boxes):
    """True when the box is less than 8 pixels wide or high."""
    return boxes.masked(np.minimum(boxes.w, boxes.h) < MIN_SIDE)
