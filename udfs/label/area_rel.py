"""area_rel: the box's area relative to the image's."""

from ..registry import label_metric


@label_metric(version=1, unit="0..1 (more if the box leaves the image)")
def area_rel(image, boxes):
    """Box area divided by image area."""
    return boxes.masked(boxes.w * boxes.h / (boxes.width * boxes.height))
