"""is_blurry: out of focus or motion-blurred, by the blur effect at analysis scale."""

from ..registry import image_metric
from .blurriness import blurriness

THRESHOLD = 0.45  # blur effect; chosen from the defocus curve in the README (σ ≥ 2 px: all flagged at full scale)


@image_metric(version=1, type="BOOLEAN")
def is_blurry(image):
    """True when the blur effect (`blurriness`, at analysis scale) is at least 0.45: on real photographs a Gaussian defocus of σ ≥ 2 px."""
    value = blurriness(image)
    return None if value is None else value >= THRESHOLD
