"""The boxes of one image, as arrays: what a label metric receives beside the decoded image.

>>> import numpy as np
>>> boxes = Boxes(np.array([[0., 0., 10., 10.], [5., 5., 10., 10.]]), np.array(["cat", "cat"]), 20, 20)
>>> boxes.iou().round(3).tolist()
[[0.0, 0.143], [0.143, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Boxes:
    """N boxes ``x, y, w, h`` in pixels (NaN for an image-level label without a box), their
    classes, the image size, and each class's share of its dataset's labels (from SQL)."""

    def __init__(self, xywh: np.ndarray, classes: np.ndarray, width: int, height: int,
                 class_share: np.ndarray | None = None):
        self.xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
        self.classes = np.asarray(classes, dtype=object)
        self.width, self.height = width, height
        self.class_share = (np.full(len(self.xywh), np.nan) if class_share is None
                            else np.asarray(class_share, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.xywh)

    x = property(lambda self: self.xywh[:, 0])
    y = property(lambda self: self.xywh[:, 1])
    w = property(lambda self: self.xywh[:, 2])
    h = property(lambda self: self.xywh[:, 3])

    @property
    def has_box(self) -> np.ndarray:
        return ~np.isnan(self.xywh).any(axis=1)

    def masked(self, values: np.ndarray) -> np.ma.MaskedArray:
        """``values`` with the labels that have no box masked (stored as NULL)."""
        return np.ma.masked_array(values, mask=~self.has_box)

    def pixel_bounds(self, pixel_width: int | None = None, pixel_height: int | None = None) -> np.ndarray:
        """Integer ``x0, y0, x1, y1`` of the pixels each box covers, clipped to the image; in the pixels
        of an array of ``pixel_width`` × ``pixel_height`` when the image was analysed at a reduced scale."""
        sx = 1.0 if pixel_width is None else pixel_width / self.width
        sy = 1.0 if pixel_height is None else pixel_height / self.height
        right, bottom = round(self.width * sx), round(self.height * sy)
        x0 = np.clip(np.floor(self.x * sx), 0, right)
        y0 = np.clip(np.floor(self.y * sy), 0, bottom)
        x1 = np.clip(np.ceil((self.x + self.w) * sx), 0, right)
        y1 = np.clip(np.ceil((self.y + self.h) * sy), 0, bottom)
        bounds = np.stack([x0, y0, x1, y1], axis=1)
        return np.where(np.isnan(bounds), 0, bounds).astype(np.int64)

    def crops(self, array: np.ndarray) -> Iterator[np.ndarray]:
        """The part of ``array`` (H×W…, the image at full or reduced scale) inside each box: views,
        empty for a box off the image."""
        for x0, y0, x1, y1 in self.pixel_bounds(array.shape[1], array.shape[0]):
            yield array[y0:y1, x0:x1]

    def crop_stat(self, array: np.ndarray, statistic) -> np.ma.MaskedArray:
        """``statistic(crop)`` for each box; masked where there is no box or the crop is empty."""
        values = np.full(len(self), np.nan)
        for i, crop in enumerate(self.crops(array)):
            if crop.size:
                values[i] = statistic(crop)
        return np.ma.masked_invalid(values)

    def iou(self) -> np.ndarray:
        """Pairwise intersection over union, N×N, with 0 on the diagonal and for box-less labels."""
        x0, y0 = self.x, self.y
        x1, y1 = x0 + self.w, y0 + self.h
        iw = np.clip(np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None]), 0, None)
        ih = np.clip(np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None]), 0, None)
        inter = iw * ih
        area = self.w * self.h
        union = area[:, None] + area[None] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            result = np.where(union > 0, inter / union, 0.0)
        result = np.nan_to_num(result, nan=0.0)
        np.fill_diagonal(result, 0.0)
        return result

    def max_iou(self, same_class: bool) -> np.ma.MaskedArray:
        """Each box's largest IoU with another box of the same (or of another) class; 0 if none."""
        same = self.classes[:, None] == self.classes[None]
        mask = same if same_class else ~same
        iou = np.where(mask, self.iou(), 0.0)
        best = iou.max(axis=1) if len(self) else np.zeros(0)
        return self.masked(best)
