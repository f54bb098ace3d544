"""redness: how much the red channel dominates."""

from ..registry import image_metric


@image_metric(version=2, unit="0..1, 1/3 = balanced")
def redness(image):
    """Share of the red channel in the total intensity: mean(R) / (mean(R) + mean(G) + mean(B))."""
    means = image.channel_means
    total = sum(means)
    return means[0] / total if total else 1 / 3
