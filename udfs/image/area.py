"""area: pixel count."""

from ..registry import image_metric


@image_metric(version=1, type="BIGINT", unit="px²")
def area(image):
    """Number of pixels (width × height)."""
    return image.width * image.height
