"""max_iou_same_class: overlap with another box of the same class (duplicates)."""

from ..registry import label_metric


@label_metric(version=1, unit="0..1", sql_function=False)
def max_iou_same_class(image, boxes):
    """Largest IoU with another box of the same class in the image (0 if none): duplicate boxes near 1."""
    return boxes.max_iou(same_class=True)
