"""box_sharpness: variance of the Laplacian inside the box."""

from ..pixels import mean_var
from ..registry import label_metric


@label_metric(version=2, unit="grey levels², ≥ 0; higher = sharper")
def box_sharpness(image, boxes):
    """Variance of the image's 4-neighbour Laplacian over the pixels inside the box."""
    return boxes.crop_stat(image.laplacian, lambda crop: mean_var(crop)[1])
