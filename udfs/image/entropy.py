"""entropy: Shannon entropy of the grey levels."""

from ..registry import image_metric
from ..stats import levels


@image_metric(version=3, unit="bits, 0..8", sql_name="image_entropy")
def entropy(image):
    """Shannon entropy of the grey-level histogram of every other pixel of every other row, in bits (SQL function `image_entropy`)."""
    return levels(image).entropy
