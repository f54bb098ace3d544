"""Box IoU with COCO's exact arithmetic (pycocotools' `maskUtils.iou` on boxes, `bbIou` in maskApi.c).

Boxes are `x, y, w, h`. For a crowd ground truth the union is the detection's own
area, so a detection inside a crowd region has IoU 1 whatever the region's size
(pycocotools' `iscrowd` rule).

>>> import numpy as np
>>> float(box_iou(np.array([0., 0, 10, 10]), np.array([5., 0, 10, 10]), np.array(False)))
0.3333333333333333
>>> float(box_iou(np.array([0., 0, 10, 10]), np.array([0., 0, 100, 100]), np.array(True)))
1.0
"""

from __future__ import annotations

import numpy as np


def box_iou(dt: np.ndarray | tuple, gt: np.ndarray | tuple, crowd: np.ndarray) -> np.ndarray:
    """IoU of detections and ground truths that broadcast against each other.

    Boxes are `[..., 4]` arrays or tuples of four column arrays (x, y, w, h); the
    operations run in bbIou's order, so the doubles are the same bits COCOeval compares.
    """
    dx, dy, dw, dh = dt if isinstance(dt, tuple) else (dt[..., i] for i in range(4))
    gx, gy, gw, gh = gt if isinstance(gt, tuple) else (gt[..., i] for i in range(4))
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    da = dw * dh
    union = np.where(crowd, da, da + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w <= 0) | (h <= 0), 0.0, iou)
