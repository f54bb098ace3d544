"""greenness: how much the green channel dominates."""

from ..registry import image_metric


@image_metric(version=2, unit="0..1, 1/3 = balanced")
def greenness(image):
    """Share of the green channel in the total intensity: mean(G) / (mean(R) + mean(G) + mean(B))."""
    means = image.channel_means
    total = sum(means)
    return means[1] / total if total else 1 / 3
