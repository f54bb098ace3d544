"""blurriness: Crété-Roffet et al.'s no-reference blur effect (2007)."""

import cv2

from ..registry import image_metric

SPAN = 9  # the re-blurring filter's length, as in the paper
HALF = SPAN // 2


def _times_span(d):
    """9·d saturated to 255, by doubling three times and adding d (uint8 additions saturate)."""
    eight = cv2.add(d, d)
    eight = cv2.add(eight, eight)
    eight = cv2.add(eight, eight)
    return cv2.add(eight, d)


def _axis(gray, vertical: bool) -> tuple[float, float]:
    """(Σ 9·|ΔF|, Σ min(9·|ΔF|, |ΔS|)) along one axis, S the 9-pixel box sums of F (border reflected).

    ΔS telescopes: S(i) − S(i−1) = F(i+4) − F(i−5), so no box filter is needed, and as
    |ΔS| ≤ 255, min(9·|ΔF|, |ΔS|) is exact with 9·|ΔF| saturated to 8 bits.
    """
    if vertical:
        padded = cv2.copyMakeBorder(gray, HALF, HALF, 0, 0, cv2.BORDER_REFLECT_101)
        d, ds = cv2.absdiff(gray[1:], gray[:-1]), cv2.absdiff(padded[SPAN:], padded[:-SPAN])
    else:
        padded = cv2.copyMakeBorder(gray, 0, 0, HALF, HALF, cv2.BORDER_REFLECT_101)
        d, ds = cv2.absdiff(gray[:, 1:], gray[:, :-1]), cv2.absdiff(padded[:, SPAN:], padded[:, :-SPAN])
    return SPAN * cv2.sumElems(d)[0], cv2.sumElems(cv2.min(_times_span(d), ds))[0]


@image_metric(version=2, unit="0..1; higher = blurrier")
def blurriness(image):
    """Blur effect: the share of neighbour differences that survive re-blurring with a 9-pixel box, worse axis."""
    return image.memo("blurriness", lambda: _blur_effect(image))


def _blur_effect(image):
    if image.pixel_width < 2 or image.pixel_height < 2:
        return None
    values = []
    for vertical in (True, False):
        total, kept = _axis(image.gray, vertical)
        if total:
            values.append(kept / total)
    return max(values) if values else None
