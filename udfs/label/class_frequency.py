"""class_frequency: how common the label's class is in its dataset."""

import numpy as np

from ..registry import label_metric


@label_metric(version=1, unit="0..1", sql_function=False)
def class_frequency(image, boxes):
    """Share of the dataset's labels that have this label's class (counted by DuckDB at run time)."""
    return np.ma.masked_invalid(boxes.class_share)
