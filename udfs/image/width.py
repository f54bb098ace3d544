"""width: the decoded image's width in pixels."""

from ..registry import image_metric


@image_metric(version=1, type="INTEGER", unit="px")
def width(image):
    """Width of the decoded image in pixels."""
    return image.width
