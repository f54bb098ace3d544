"""The statistics the built-in image metrics share, each group computed once per image in one fused pass.

A metric module stays one small function (see `qmdb.udfs.image`), but it reads its numbers from
one of three groups, computed on first use and kept on the `Image` (``image.memo``), so that the
21 built-in metrics visit the pixels once per group instead of once per metric:

- `levels` — from the grey-level histogram alone (one counting pass) of a regular sample of the
  grey image, every other pixel of every other row (`sample`: a quarter of the pixels; all of
  them under 512 × 512), as CleanVision too shrinks an image before its statistics; a sample
  keeps the distribution of levels, which a 2×2 average would narrow: count, mean, standard
  deviation, entropy, percentiles. brightness, contrast, entropy, is_dark, is_overexposed,
  is_low_information read it.
- `edges` — the neighbour-difference statistics of the grey image: the Laplacian's variance
  (sharpness; the Laplacian array is `Image.laplacian`, which the box metrics crop), Immerkær's
  noise sum, and the blur effect's sums along both axes computed without padded copies of the
  image (the 9-pixel box difference telescopes; only the 4 + 4 rows or columns nearest an edge
  need the reflected border, and they are gathered on their own). sharpness, noise, blurriness,
  is_blurry read it.
- `colour` — at colour resolution (`Image.half`): channel sums and the three pairwise squared
  channel differences (cv2.norm of two planes, no int16 temporaries), from which colourfulness's
  means and variances follow exactly; the chroma statistics (saturation, the greyscale share).

`tests/udfs/test_golden_metrics.py` checks every value against a frozen copy of the per-metric code
on every pixel: edge and colour values to float rounding (integer sums are exact, float sums only
reordered), grey-level values within the tolerances the README states, measured on real photographs.

>>> import numpy as np
>>> from qmdb.udfs.pixels import Image
>>> image = Image(np.dstack([np.tile(np.arange(8, dtype=np.uint8) * 30, (6, 1))] * 3))
>>> levels(image).count, round(levels(image).mean, 2), levels(image).entropy
(48, 105.0, 3.0)
>>> colour(image).colourful
0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .pixels import Image, mean_var, percentile
from .pixels import histogram as pixel_histogram

SPAN = 9  # the blur effect's re-blurring box, as in Crété-Roffet et al. (2007)
_HALF = SPAN // 2
_IMMERKAER = np.array([1, -2, 1], np.float32)  # the 3×3 noise mask is its outer product
_LEVELS = np.arange(256, dtype=np.int64)


@dataclass(frozen=True)
class Levels:
    """The grey-level histogram and what follows from it alone."""

    histogram: np.ndarray  # pixel count per grey level 0..255 (float64)
    count: int
    mean: float
    std: float  # population standard deviation
    entropy: float  # Shannon entropy of the histogram, bits

    def percentile(self, q: float) -> int:
        """The smallest grey level at or below which a share ``q`` (0..1) of the pixels lie."""
        return percentile(self.histogram, q)


@dataclass(frozen=True)
class Edges:
    """Neighbour-difference statistics of the grey image; None where the image is too small."""

    laplacian_var: float
    noise_sum: float | None  # Σ |Immerkær's 3×3 response| over the interior pixels
    blur_sums: tuple[tuple[float, float], ...] | None  # (Σ 9·|ΔF|, Σ min(9·|ΔF|, |ΔS|)), vertical then horizontal


@dataclass(frozen=True)
class Colour:
    """Colour statistics at colour resolution (`Image.half`), over `count` pixels."""

    count: int
    sums: tuple[float, float, float]  # Σ B, Σ G, Σ R
    squares: tuple[float, float, float]  # Σ (R − G)², Σ (R − B)², Σ (G − B)²
    colourful: int  # pixels with max(R, G, B) − min(R, G, B) above `GREY_TOLERANCE`
    saturation: float  # mean of (max − min) / max(max, 1)


GREY_TOLERANCE = 8  # max − min of R, G, B allowed for a "grey" pixel (JPEG chroma noise)


def levels(image: Image) -> Levels:
    """The grey-level statistics of `image`, counted once (see the module's docstring)."""
    return image.memo("stats.levels", lambda: _levels(image))


def edges(image: Image) -> Edges:
    """The edge statistics of `image`, computed once."""
    return image.memo("stats.edges", lambda: _edges(image))


def colour(image: Image) -> Colour:
    """The colour statistics of `image` at colour resolution, computed once."""
    return image.memo("stats.colour", lambda: _colour(image.half))


def moments(histogram: np.ndarray) -> tuple[int, float, float]:
    """(count, mean, population standard deviation) of the levels a 256-bin histogram counts, in exact
    integer arithmetic (no cancellation in the variance of a nearly flat image)."""
    counts = histogram.astype(np.int64)
    n = int(counts.sum())
    if n == 0:
        return 0, 0.0, 0.0
    s1, s2 = int(counts @ _LEVELS), int(counts @ (_LEVELS * _LEVELS))
    return n, s1 / n, math.sqrt((n * s2 - s1 * s1) / (n * n))


SAMPLE_FROM = 512 * 512  # pixels: a smaller image's levels are counted in full (its sample would be noisy)


def sample(gray: np.ndarray, least: int = SAMPLE_FROM) -> np.ndarray:
    """Every other pixel of every other row (from the first), contiguous, of an image of at least
    `least` pixels; a smaller image itself.

    >>> sample(np.arange(16, dtype=np.uint8).reshape(4, 4), least=16).tolist()
    [[0, 2], [8, 10]]
    """
    if gray.size < least:
        return gray
    return np.ascontiguousarray(gray[::2, ::2])


def _levels(image: Image) -> Levels:
    histogram = pixel_histogram(sample(image.gray))
    n, mean, std = moments(histogram)
    p = histogram[histogram > 0] / histogram.sum()
    return Levels(histogram, n, mean, std, float(-(p * np.log2(p)).sum()) + 0.0)


def _edges(image: Image) -> Edges:
    gray, w, h = image.gray, image.pixel_width, image.pixel_height
    noise = None
    if w >= 3 and h >= 3:
        response = cv2.sepFilter2D(gray, cv2.CV_16S, _IMMERKAER, _IMMERKAER)[1:-1, 1:-1]
        noise = cv2.norm(response, cv2.NORM_L1)
    blur = (_blur_sums(gray, True), _blur_sums(gray, False)) if w >= 2 and h >= 2 else None
    return Edges(_laplacian_var(gray, image.laplacian), noise, blur)


def _laplacian_var(gray: np.ndarray, laplacian: np.ndarray) -> float:
    """Population variance of the Laplacian, its sum taken from the border alone (exact, integers).

    With the border reflected (BORDER_REFLECT_101) the second differences along a column telescope:
    Σᵢ (F(i+1) − 2F(i) + F(i−1)) = (F(n−2) − F(n−1)) − (F(0) − F(1)), and likewise along a row,
    so only the squares need a pass over the Laplacian."""
    n, m = gray.shape[:2]
    if n < 2 or m < 2:
        return mean_var(laplacian)[1]
    rows = [cv2.sumElems(gray[k:k + 1])[0] for k in (n - 2, n - 1, 0, 1)]
    cols = [cv2.sumElems(gray[:, k:k + 1])[0] for k in (m - 2, m - 1, 0, 1)]
    total = (rows[0] - rows[1]) - (rows[2] - rows[3]) + (cols[0] - cols[1]) - (cols[2] - cols[3])
    count = laplacian.size
    mean = total / count
    return max(cv2.norm(laplacian, cv2.NORM_L2SQR) / count - mean * mean, 0.0)


def _blur_sums(gray: np.ndarray, vertical: bool) -> tuple[float, float]:
    """(Σ 9·|ΔF|, Σ min(9·|ΔF|, |ΔS|)) along one axis, S the 9-pixel box sums of F, border reflected
    (OpenCV's BORDER_REFLECT_101).

    ΔS telescopes: S(i + 1) − S(i) = F(i + 5) − F(i − 4), so no box filter is needed; where both
    ends are inside the image (i from 4 to n − 6) it is the difference of two shifted views of the
    image, and only the 8 rows (columns) nearest the edges read reflected pixels, gathered apart.
    As |ΔS| ≤ 255, min(9·|ΔF|, |ΔS|) is exact with 9·|ΔF| saturated to 8 bits.
    """
    n = gray.shape[0 if vertical else 1]

    def cut(array, lo, hi):
        return array[lo:hi] if vertical else array[:, lo:hi]

    def gather(array, index):
        return np.ascontiguousarray(array[index] if vertical else array[:, index])

    d = cv2.absdiff(cut(gray, 1, n), cut(gray, 0, n - 1))  # |ΔF(i)| = |F(i + 1) − F(i)|, i = 0 .. n − 2
    nine = _times_nine(d)
    lo, hi = _HALF, n - SPAN + _HALF  # i with both F(i + 5) and F(i − 4) inside the image
    kept = 0.0
    if hi > lo:
        kept += cv2.sumElems(cv2.min(cut(nine, lo, hi), cv2.absdiff(cut(gray, SPAN, n), cut(gray, 0, n - SPAN))))[0]
    border, ahead, behind = _border(n)
    if border:
        ds = cv2.absdiff(gather(gray, ahead), gather(gray, behind))
        kept += cv2.sumElems(cv2.min(gather(nine, border), ds))[0]
    return SPAN * cv2.sumElems(d)[0], kept


def _times_nine(d: np.ndarray) -> np.ndarray:
    """9·d saturated to 255, as 8·d + d in saturating 8-bit additions (exact: saturation is monotone),
    a third of the time of a scaled conversion."""
    eight = cv2.add(d, d)
    eight = cv2.add(eight, eight, dst=eight)
    eight = cv2.add(eight, eight, dst=eight)
    return cv2.add(eight, d, dst=eight)


@lru_cache(maxsize=256)
def _border(n: int) -> tuple[list[int], list[int], list[int]]:
    """The differences i (0 .. n − 2) whose box difference reads a reflected pixel, and for each the
    rows (columns) of F(i + 5) and F(i − 4) with the border reflected as OpenCV does."""
    border = [i for i in range(n - 1) if not _HALF <= i < n - SPAN + _HALF]
    return (border, [cv2.borderInterpolate(i + _HALF + 1, n, cv2.BORDER_REFLECT_101) for i in border],
            [cv2.borderInterpolate(i - _HALF, n, cv2.BORDER_REFLECT_101) for i in border])


def _colour(half: Image) -> Colour:
    b, g, r = half.channels
    sums = cv2.sumElems(half.bgr)[:3]
    squares = tuple(cv2.norm(x, y, cv2.NORM_L2SQR) for x, y in ((r, g), (r, b), (g, b)))
    chroma = half.chroma
    # numpy, not cv2.compare: OpenCV takes an array of up to 4 elements (a 1×1 half) for a scalar
    colourful = int(np.count_nonzero(chroma > GREY_TOLERANCE))
    # a black pixel (max = 0) has chroma 0: dividing by max(V, 1) gives it 0 without a NaN
    saturation = cv2.mean(cv2.divide(chroma, cv2.max(half.channel_max, 1), dtype=cv2.CV_32F))[0]
    return Colour(half.pixel_width * half.pixel_height, sums, squares, colourful, saturation)
