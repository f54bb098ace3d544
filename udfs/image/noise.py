"""noise: Immerkær's fast estimate of Gaussian noise (1996)."""

import math

from ..registry import image_metric
from ..stats import edges


@image_metric(version=2, unit="grey levels (σ)")
def noise(image):
    """Estimated standard deviation of the luminance noise (Immerkær 1996), interior pixels."""
    total = edges(image).noise_sum
    if total is None:
        return None
    return math.sqrt(math.pi / 2) * total / (6 * (image.pixel_width - 2) * (image.pixel_height - 2))
