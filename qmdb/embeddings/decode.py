"""Reading images once for embedding: decode with OpenCV, crop boxes for object embeddings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..uris import UnreadableError, read_bytes


def read_rgb(path: str | Path) -> tuple[np.ndarray | None, str | None]:
    """(H×W×3 uint8 RGB, None), or (None, why) for a missing or undecodable file."""
    try:
        data = read_bytes(path)
    except UnreadableError as error:
        return None, str(error)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        return None, "cannot decode image" if data.size else "empty file"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), None


def crop(image: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray | None:
    """The pixels of box (x, y, w, h) clipped to the image; None when nothing of it is inside.

    >>> crop(np.zeros((10, 20, 3), np.uint8), 15, 5, 10, 10).shape
    (5, 5, 3)
    >>> crop(np.zeros((10, 20, 3), np.uint8), 30, 5, 10, 10) is None
    True
    """
    height, width = image.shape[:2]
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(width, int(np.ceil(x + w))), min(height, int(np.ceil(y + h)))
    if x1 <= x0 or y1 <= y0:
        return None
    return image[y0:y1, x0:x1]
