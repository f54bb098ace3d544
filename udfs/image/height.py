"""height: the decoded image's height in pixels."""

from ..registry import image_metric


@image_metric(version=1, type="INTEGER", unit="px")
def height(image):
    """Height of the decoded image in pixels."""
    return image.height
