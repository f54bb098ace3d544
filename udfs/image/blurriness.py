"""blurriness: Crété-Roffet et al.'s no-reference blur effect (2007)."""

from ..registry import image_metric
from ..stats import edges


@image_metric(version=2, unit="0..1; higher = blurrier")
def blurriness(image):
    """Blur effect: the share of neighbour differences that survive re-blurring with a 9-pixel box, worse axis."""
    sums = edges(image).blur_sums  # (Σ 9·|ΔF|, Σ min(9·|ΔF|, |ΔS|)) per axis, S the 9-pixel box sums
    if sums is None:
        return None
    values = [kept / total for total, kept in sums if total]
    return max(values) if values else None
