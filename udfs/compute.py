"""Running metrics on one decoded image: all its image metrics, then all its label metrics.

A metric that raises does not stop the others: its value is NULL and the
message is returned, to become an `errors` row.

>>> import numpy as np
>>> from qmdb.udfs import registry
>>> from qmdb.udfs.pixels import Image
>>> values, problems = image_values(Image(np.zeros((2, 3, 3), np.uint8)), registry.metrics("image", ["width", "is_dark"]))
>>> sorted(values.items()), problems
([('is_dark', True), ('width', 3)], [])
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .boxes import Boxes
from .pixels import Image
from .registry import Metric


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def image_values(image: Image, metrics: Iterable[Metric]) -> tuple[dict[str, object], list[str]]:
    """{metric name: value} for one image, and the messages of metrics that failed."""
    values, problems = {}, []
    for metric in metrics:
        try:
            values[metric.name] = _scalar(metric.function(image))
        except Exception as error:  # a metric's bug must not abort the run
            values[metric.name] = None
            problems.append(f"metric {metric.name}: {type(error).__name__}: {error}")
    return values, problems


def label_values(image: Image, boxes: Boxes, metrics: Iterable[Metric]) -> tuple[dict[str, np.ma.MaskedArray], list[str]]:
    """{metric name: one value per box} for the boxes of one image, and the messages of metrics that failed."""
    values, problems = {}, []
    for metric in metrics:
        try:
            result = np.ma.asarray(metric.function(image, boxes))
            if result.shape != (len(boxes),):
                raise ValueError(f"returned shape {result.shape}, expected ({len(boxes)},): one value per box")
            if result.dtype.kind == "f":
                result = np.ma.masked_invalid(result)
        except Exception as error:
            result = np.ma.masked_all(len(boxes))
            problems.append(f"metric {metric.name}: {type(error).__name__}: {error}")
        values[metric.name] = result
    return values, problems
