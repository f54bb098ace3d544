"""center_x: horizontal position of the box's centre."""

from ..registry import label_metric


@label_metric(version=1, unit="0..1, 0 = left edge")
def center_x(image, boxes):
    """x of the box centre divided by the image width."""
    return boxes.masked((boxes.x + boxes.w / 2) / boxes.width)
