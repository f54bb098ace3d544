"""entropy: Shannon entropy of the grey levels."""

import numpy as np

from ..registry import image_metric


@image_metric(version=2, unit="bits, 0..8", sql_name="image_entropy")
def entropy(image):
    """Shannon entropy of the grey-level histogram, in bits (SQL function `image_entropy`)."""
    counts = image.gray_histogram
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0
