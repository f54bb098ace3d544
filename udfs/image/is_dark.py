"""is_dark: nearly every pixel is dark."""

from ..registry import image_metric

THRESHOLD = 64  # grey level, a quarter of full scale


@image_metric(version=2, type="BOOLEAN")
def is_dark(image):
    """True when 95 % of the pixels have luminance below a quarter of full scale (grey < 64)."""
    return image.gray_percentile(0.95) < THRESHOLD
