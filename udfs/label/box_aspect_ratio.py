"""box_aspect_ratio: the box's width / height."""

import numpy as np

from ..registry import label_metric


@label_metric(version=1, unit="ratio, > 1 = wide")
def box_aspect_ratio(image, boxes):
    """Box width divided by box height (NULL for a zero-height box)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(boxes.h > 0, boxes.w / boxes.h, np.nan)
    return np.ma.masked_invalid(ratio)
