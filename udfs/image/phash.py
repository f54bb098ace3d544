"""phash: 64-bit perceptual hash (DCT hash) for near-duplicates."""

import cv2
import numpy as np

from ..registry import image_metric

_BITS = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


@image_metric(version=3, type="UBIGINT", unit="64 bits; compare with bit_count(a # b)")
def phash(image):
    """Perceptual hash: 8×8 lowest DCT frequencies of the grey image at colour resolution averaged onto 32×32, above their median, row-major, MSB first."""
    low = cv2.dct(image.half.area_resize(32))[:8, :8].ravel()
    return int(np.bitwise_or.reduce(_BITS[low > np.median(low)], initial=np.uint64(0)))
