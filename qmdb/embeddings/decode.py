"""Reading images once for embedding, through the one image reader (`qmdb.images`: EXIF orientation
ignored, so a box crops the region it was drawn on), and cropping boxes for object embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import images


def read_rgb(path: str | Path) -> tuple[np.ndarray | None, str | None]:
    """(H×W×3 uint8 RGB, None), or (None, why) for a missing or undecodable file."""
    try:
        return images.read_rgb(path), None
    except images.DecodeError as error:
        return None, str(error)


def crop(image: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray | None:
    """The pixels of box (x, y, w, h) clipped to the image; None when nothing of it is inside.

    >>> crop(np.zeros((10, 20, 3), np.uint8), 15, 5, 10, 10).shape
    (5, 5, 3)
    >>> crop(np.zeros((10, 20, 3), np.uint8), 30, 5, 10, 10) is None
    True
    """
    region = images.box_region(image.shape, x, y, w, h)
    if region is None:
        return None
    top, bottom, left, right = region
    return image[top:bottom, left:right]
