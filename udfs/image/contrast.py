"""contrast: spread of the luminance (RMS contrast)."""

from ..registry import image_metric
from ..stats import levels


@image_metric(version=4, unit="0..0.5")  # 4: JPEG luminance plane
def contrast(image):
    """Standard deviation of the luminance / 255 (RMS contrast) over every other pixel of every other row: 0 = one flat grey."""
    return levels(image).std / 255.0
