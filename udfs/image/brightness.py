"""brightness: mean luminance."""

from ..registry import image_metric
from ..stats import levels


@image_metric(version=3, unit="0..1")
def brightness(image):
    """Mean luminance (ITU-R BT.601 grey level / 255) over every other pixel of every other row (a quarter of the pixels): 0 = black, 1 = white."""
    return levels(image).mean / 255.0
