"""contrast: spread of the luminance (RMS contrast)."""

from ..registry import image_metric


@image_metric(version=2, unit="0..0.5")
def contrast(image):
    """Standard deviation of the luminance / 255 (RMS contrast): 0 = one flat grey."""
    return image.gray_stats[1] / 255.0
