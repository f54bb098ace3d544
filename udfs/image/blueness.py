"""blueness: how much the blue channel dominates."""

from ..registry import image_metric


@image_metric(version=2, unit="0..1, 1/3 = balanced")
def blueness(image):
    """Share of the blue channel in the total intensity: mean(B) / (mean(R) + mean(G) + mean(B))."""
    means = image.channel_means
    total = sum(means)
    return means[2] / total if total else 1 / 3
