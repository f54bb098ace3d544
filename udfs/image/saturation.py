"""saturation: mean HSV saturation."""

from ..registry import image_metric
from ..stats import colour


@image_metric(version=3, unit="0..1")
def saturation(image):
    """Mean HSV saturation, (max − min) / max of R, G, B per pixel at colour resolution (2×2 averages): 0 = grey, 1 = pure colours."""
    return colour(image).saturation
