"""is_low_information: too few distinct grey levels to show anything."""

from ..registry import image_metric
from .entropy import entropy

THRESHOLD = 2.0  # bits


@image_metric(version=3, type="BOOLEAN")
def is_low_information(image):
    """True when the grey-level entropy is below 2 bits (a blank, flat or nearly binary image)."""
    return entropy(image) < THRESHOLD
