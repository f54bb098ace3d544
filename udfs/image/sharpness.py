"""sharpness: variance of the Laplacian."""

from ..registry import image_metric
from ..stats import edges


@image_metric(version=2, unit="grey levels², ≥ 0; higher = sharper")
def sharpness(image):
    """Variance of the 4-neighbour Laplacian of the luminance (Pech-Pacheco et al., 2000)."""
    return edges(image).laplacian_var
