"""contrast: spread of the luminance (RMS contrast)."""

from ..registry import image_metric
from ..stats import levels


@image_metric(version=3, unit="0..0.5")
def contrast(image):
    """Standard deviation of the luminance / 255 (RMS contrast) over every other pixel of every other row: 0 = one flat grey."""
    return levels(image).std / 255.0
