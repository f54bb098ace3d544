"""COCO's evaluation parameters, as data (pycocotools' `Params.setDetParams`).

>>> [round(float(t), 2) for t in IOU_THRESHOLDS][:3], len(RECALL_THRESHOLDS)
([0.5, 0.55, 0.6], 101)
>>> AREA_LABELS, MAX_DETS
(('all', 'small', 'medium', 'large'), (1, 10, 100))
"""

from __future__ import annotations

import numpy as np

# np.linspace, not np.arange: the exact floats COCOeval compares against.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
AREA_RANGES = np.array([[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]], dtype=float)
AREA_LABELS = ("all", "small", "medium", "large")
MAX_DETS = (1, 10, 100)

# The twelve numbers of COCOeval.summarize(): (name, AP or AR, IoU threshold or None, area, maxDets).
SUMMARY = (
    ("ap", True, None, "all", 100),
    ("ap50", True, 0.5, "all", 100),
    ("ap75", True, 0.75, "all", 100),
    ("ap_small", True, None, "small", 100),
    ("ap_medium", True, None, "medium", 100),
    ("ap_large", True, None, "large", 100),
    ("ar1", False, None, "all", 1),
    ("ar10", False, None, "all", 10),
    ("ar100", False, None, "all", 100),
    ("ar_small", False, None, "small", 100),
    ("ar_medium", False, None, "medium", 100),
    ("ar_large", False, None, "large", 100),
)
