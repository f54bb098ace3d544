"""is_overexposed: even the darkest pixels are nearly white (CleanVision's light rule, on the luminance)."""

from ..registry import image_metric
from ..stats import levels

THRESHOLD = 243  # grey level: above CleanVision's 0.95 of full scale (242.25), for its 5th brightness percentile
SHARE = 0.05


@image_metric(version=4, type="BOOLEAN")
def is_overexposed(image):
    """True when 95 % of the pixels (every other pixel of every other row) have luminance above 0.95 of full scale (grey ≥ 243): washed out to nearly white."""
    return levels(image).percentile(SHARE) >= THRESHOLD
