"""max_iou_other_class: overlap with a box of another class (conflicting labels)."""

from ..registry import label_metric


@label_metric(version=1, unit="0..1", sql_function=False)
def max_iou_other_class(image, boxes):
    """Largest IoU with a box of another class in the image (0 if none): the same object labelled twice near 1."""
    return boxes.max_iou(same_class=False)
