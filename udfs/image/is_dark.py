"""is_dark: even the brightest pixels are dark (CleanVision's rule, on the luminance)."""

from ..registry import image_metric
from ..stats import levels

THRESHOLD = 82  # grey level: CleanVision's 0.32 of full scale (81.6), for its 99th brightness percentile
SHARE = 0.99


@image_metric(version=4, type="BOOLEAN")
def is_dark(image):
    """True when 99 % of the pixels (every other pixel of every other row) have luminance below 0.32 of full scale (grey < 82): the brightest 1 % are dark too, so a night sky with stars is not dark."""
    return levels(image).percentile(SHARE) < THRESHOLD
