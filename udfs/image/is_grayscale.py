"""is_grayscale: the colour channels carry (almost) no colour."""

from ..registry import image_metric
from ..stats import GREY_TOLERANCE, colour

TOLERANCE = GREY_TOLERANCE  # max − min of R, G, B allowed for a "grey" pixel (JPEG chroma noise): 8
SHARE = 0.01  # share of pixels allowed to be more colourful than that


@image_metric(version=4, type="BOOLEAN")  # 4: computed on 1×1..3×3 images (3 failed there)
def is_grayscale(image):
    """True when at most 1 % of the pixels at colour resolution (2×2 averages) have max(R, G, B) − min(R, G, B) above 8."""
    c = colour(image)
    return c.colourful <= SHARE * c.count
