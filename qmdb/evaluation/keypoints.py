"""Object keypoint similarity (OKS) of same-image, same-class pairs: pycocotools' `computeOks`, vectorized.

For a ground truth with visible keypoints (v > 0), OKS is the mean over them of
exp(-d² / (2·s²·area·(2σ)²)) (in pycocotools' arithmetic order); for one with
none, the distance is to a box twice the ground truth's size around it and the
mean is over every keypoint. `evaluate_segm(con, model, iou_type="keypoints")`
matches on it.

>>> import numpy as np
>>> gt = np.array([[10., 10, 2, 20, 20, 2]]); dt = np.array([[10., 10, 1, 20, 21, 1]])
>>> round(float(oks(gt, np.array([[0., 0, 30, 30]]), np.array([900.]), dt, np.array([0.1, 0.1]))[0]), 6)
0.993104
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import QmdbError

# pycocotools' Params.setKpParams: the 17 COCO person keypoints.
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0


def oks(gt: np.ndarray, gt_box: np.ndarray, gt_area: np.ndarray, dt: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """OKS of row-aligned pairs: `gt`, `dt` are (n, 3k) flat keypoints, `gt_box` (n, 4) x, y, w, h."""
    variances = (sigmas * 2) ** 2
    xg, yg, vg = gt[:, 0::3], gt[:, 1::3], gt[:, 2::3]
    xd, yd = dt[:, 0::3], dt[:, 1::3]
    visible = vg > 0
    k1 = np.count_nonzero(visible, axis=1)
    x0 = (gt_box[:, 0] - gt_box[:, 2])[:, None]
    x1 = (gt_box[:, 0] + gt_box[:, 2] * 2)[:, None]
    y0 = (gt_box[:, 1] - gt_box[:, 3])[:, None]
    y1 = (gt_box[:, 1] + gt_box[:, 3] * 2)[:, None]
    z = np.zeros_like(xd)
    outside_x = np.maximum(z, x0 - xd) + np.maximum(z, xd - x1)
    outside_y = np.maximum(z, y0 - yd) + np.maximum(z, yd - y1)
    seen = (k1 > 0)[:, None]
    dx = np.where(seen, xd - xg, outside_x)
    dy = np.where(seen, yd - yg, outside_y)
    e = (dx ** 2 + dy ** 2) / variances / (gt_area[:, None] + np.spacing(1)) / 2
    counted = np.where(seen, visible, True)
    total = np.where(counted, np.exp(-e), 0.0).sum(axis=1)
    return total / np.where(k1 > 0, k1, gt.shape[1] // 3)


def _same_group(gt_key: np.ndarray, dt_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (detection, ground truth) index pair that shares a key."""
    gs, ds = np.argsort(gt_key, kind="stable"), np.argsort(dt_key, kind="stable")
    g_uniq, g_first, g_count = np.unique(gt_key[gs], return_index=True, return_counts=True)
    d_uniq, d_first, d_count = np.unique(dt_key[ds], return_index=True, return_counts=True)
    _, gi, di = np.intersect1d(g_uniq, d_uniq, assume_unique=True, return_indices=True)
    G, D = g_count[gi], d_count[di]
    pairs = G * D
    group = np.repeat(np.arange(len(gi)), pairs)
    local = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    return ds[d_first[di][group] + local // G[group]], gs[g_first[gi][group] + local % G[group]]


def _flat(column: pa.ChunkedArray, width: int, what: str) -> np.ndarray:
    lengths = np.array([len(v) for v in column.to_pylist()], dtype=np.int64)
    if len(lengths) and (lengths != width).any():
        raise QmdbError(f"{what} have {sorted(set((lengths // 3).tolist()))} keypoints; OKS needs {width // 3} "
                        "(one sigma each: pass sigmas)")
    return np.asarray(column.combine_chunks().flatten().to_numpy(zero_copy_only=False), float).reshape(-1, width)


def oks_pairs(labels: pa.Table, preds: pa.Table, gt_cls: np.ndarray, dt_cls: np.ndarray, threshold: float,
              sigmas=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(detection, ground truth, OKS) of same-image, same-class pairs with OKS >= threshold."""
    sigmas = COCO_SIGMAS if sigmas is None else np.asarray(sigmas, dtype=float)
    width = 3 * len(sigmas)
    gt, dt = _flat(labels["keypoints"], width, "labels"), _flat(preds["keypoints"], width, "predictions")
    n_cls = int(max(gt_cls.max(initial=-1), dt_cls.max(initial=-1))) + 1
    key = lambda t, cls: t["image_id"].to_numpy() * max(n_cls, 1) + cls  # noqa: E731
    pd, pg = _same_group(key(labels, gt_cls), key(preds, dt_cls))
    box = np.stack([labels[c].to_numpy(zero_copy_only=False).astype(float) for c in "xywh"], axis=1)
    area = labels["area"].to_numpy(zero_copy_only=False).astype(float)
    value = oks(gt[pg], box[pg], area[pg], dt[pd], sigmas)
    keep = value >= threshold
    return pd[keep], pg[keep], value[keep]
