"""aspect_ratio: width / height."""

from ..registry import image_metric


@image_metric(version=1, unit="ratio, > 1 = landscape")
def aspect_ratio(image):
    """Width divided by height."""
    return image.width / image.height
