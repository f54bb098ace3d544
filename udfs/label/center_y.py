"""center_y: vertical position of the box's centre."""

from ..registry import label_metric


@label_metric(version=1, unit="0..1, 0 = top edge")
def center_y(image, boxes):
    """y of the box centre divided by the image height."""
    return boxes.masked((boxes.y + boxes.h / 2) / boxes.height)
