"""box_area: the box's area."""

from ..registry import label_metric


@label_metric(version=1, unit="px²")
def box_area(image, boxes):
    """Box area, w × h in pixels."""
    return boxes.masked(boxes.w * boxes.h)
