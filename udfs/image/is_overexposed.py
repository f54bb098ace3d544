"""is_overexposed: nearly every pixel is washed out."""

from ..registry import image_metric

THRESHOLD = 192  # grey level, three quarters of full scale


@image_metric(version=2, type="BOOLEAN")
def is_overexposed(image):
    """True when 95 % of the pixels have luminance at or above three quarters of full scale (grey ≥ 192)."""
    return image.gray_percentile(0.05) >= THRESHOLD
