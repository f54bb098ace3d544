"""Decoding an image once, at analysis resolution, and the derived arrays its metrics share.

`decode` turns file bytes into an `Image` (8-bit BGR, through the one image
reader `qmdb.images`: EXIF orientation ignored so pixels match the stored
width/height the boxes refer to); every
metric of that image and of its boxes then reads the same arrays. Derived
arrays (grey levels, the grey histogram, the Laplacian, HSV, …) are computed on
first use and cached on the object, so a metric never pays for them twice.

Analysis resolution: a file whose longest side is at least twice
`ANALYSIS_SIDE` is decoded at 1/2, 1/4 or 1/8 of its size, the smallest
scale that keeps its longest side at or above `ANALYSIS_SIDE` (libjpeg's DCT
scaling for a JPEG, which costs a fraction of a full decode; OpenCV's reduced
decoding for other formats). `Image.width`/`height` stay the file's size and
boxes stay in its pixels; `Image.bgr` holds the analysed pixels, and
`Image.full_resolution` decodes the file again at full size for a metric that
needs it.

Colour resolution: colour statistics (saturation, colourfulness, the greyscale
flag) and the perceptual hash read `Image.half`, the analysed pixels averaged
over 2×2 blocks: the resolution at which a JPEG stores its colour (4:2:0
chroma), a quarter of the pixels to visit.

>>> import numpy as np
>>> image = Image(np.full((4, 6, 3), 255, np.uint8))
>>> image.width, image.height, round(image.gray_mean, 1)
(6, 4, 255.0)
>>> Image(np.zeros((540, 960, 3), np.uint8), size=(3840, 2160)).scale
4.0
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..images import FLAGS, REDUCED, DecodeError, check_bytes, file_size, jpeg_size, read_bytes_or_fail
from ..images import decode as decode_pixels

__all__ = ["ANALYSIS_SIDE", "FLAGS", "REDUCED", "DecodeError", "Image", "check_bytes", "decode", "file_size",
           "jpeg_size", "read"]

ANALYSIS_SIDE = 1024  # blur σ ≥ 1 px must still show: see the README's blur-at-analysis-scale curve


class Image:
    """A decoded image: ``bgr`` is the analysed pixels, H×W×3 uint8; ``width`` and ``height`` are the
    file's size (``size``, when the pixels were decoded at a reduced scale); the properties below are
    computed once."""

    def __init__(self, bgr: np.ndarray, size: tuple[int, int] | None = None, data: np.ndarray | None = None):
        self.bgr = bgr
        self.pixel_height, self.pixel_width = bgr.shape[:2]
        self.width, self.height = size if size is not None else (self.pixel_width, self.pixel_height)
        self._data = data

    def memo(self, key: str, compute):
        """`compute()` once per image under `key`: for a metric that another one reads (is_blurry reads
        blurriness), so that the pair costs one computation."""
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @property
    def scale(self) -> float:
        """File pixels per analysed pixel along the longest side (1.0 at full resolution)."""
        return max(self.width, self.height) / max(self.pixel_width, self.pixel_height)

    @cached_property
    def full_resolution(self) -> Image:
        """The same file decoded at its full size (a second decode, paid only by a metric that asks)."""
        if self.scale == 1.0 or self._data is None:
            return self
        return Image(decode_pixels(self._data))

    @cached_property
    def half(self) -> Image:
        """The analysed pixels averaged over 2×2 blocks (rounded to the nearest level; an odd last row or
        column is left out): where colour is measured. The image itself when a side is under 2 pixels."""
        h, w = self.pixel_height // 2, self.pixel_width // 2
        if h == 0 or w == 0:
            return self
        return Image(cv2.resize(self.bgr[:2 * h, :2 * w], (w, h), interpolation=cv2.INTER_AREA))

    @cached_property
    def gray(self) -> np.ndarray:
        """Luminance, ITU-R BT.601 (0.299 R + 0.587 G + 0.114 B), uint8."""
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)

    @cached_property
    def rgb(self) -> np.ndarray:
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2RGB)

    @cached_property
    def gray_stats(self) -> tuple[float, float]:
        """Mean and (population) standard deviation of the grey levels."""
        mean, std = cv2.meanStdDev(self.gray)
        return float(mean[0, 0]), float(std[0, 0])

    @property
    def gray_mean(self) -> float:
        return self.gray_stats[0]

    @cached_property
    def gray_histogram(self) -> np.ndarray:
        """Pixel count per grey level 0..255 (float64)."""
        return histogram(self.gray)

    def gray_percentile(self, q: float) -> int:
        """The smallest grey level at or below which a share ``q`` (0..1) of the pixels lie."""
        return percentile(self.gray_histogram, q)

    @cached_property
    def channel_means(self) -> tuple[float, float, float]:
        """Mean of R, G, B (0..255)."""
        n = self.pixel_width * self.pixel_height  # sums, then one division: a third of cv2.mean's time
        b, g, r, _ = cv2.sumElems(self.bgr)
        return r / n, g / n, b / n

    @cached_property
    def laplacian(self) -> np.ndarray:
        """4-neighbour Laplacian of the grey image (int16, border reflected as OpenCV's default)."""
        return cv2.Laplacian(self.gray, cv2.CV_16S, ksize=1)

    @cached_property
    def hsv(self) -> np.ndarray:
        """OpenCV's HSV (H 0..179, S and V 0..255), uint8."""
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2HSV)

    @cached_property
    def channels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The B, G and R planes, uint8."""
        return tuple(cv2.split(self.bgr))

    @cached_property
    def channel_max(self) -> np.ndarray:
        """max(R, G, B) per pixel (HSV's V), uint8."""
        b, g, r = self.channels
        return cv2.max(cv2.max(b, g), r)

    @cached_property
    def chroma(self) -> np.ndarray:
        """max(R, G, B) − min(R, G, B) per pixel, uint8 (0 for a grey pixel)."""
        b, g, r = self.channels
        return cv2.subtract(self.channel_max, cv2.min(cv2.min(b, g), r))

    def area_resize(self, size: int) -> np.ndarray:
        """The grey image averaged onto a size×size grid of equal boxes, fractional pixels weighted by
        the share they cover (OpenCV's INTER_AREA, unrounded), from the integral image: float64."""
        h, w = self.pixel_height, self.pixel_width
        integral = cv2.integral(self.gray, sdepth=cv2.CV_32S if h * w * 255 < 2**31 else cv2.CV_64F)
        rows, row_frac = _edges(h, size)
        cols, col_frac = _edges(w, size)
        below = integral[rows].astype(np.float64)  # only 2 × (size + 1) rows are read
        at_rows = below[0::2] + (below[1::2] - below[0::2]) * row_frac[:, None]  # linear inside a pixel
        left = at_rows[:, cols]
        corners = left[:, 0::2] + (left[:, 1::2] - left[:, 0::2]) * col_frac
        sums = np.diff(np.diff(corners, axis=0), axis=1)
        return sums / ((h / size) * (w / size))


@lru_cache(maxsize=256)
def _edges(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the edges of `size` equal boxes over `n` pixels fall: the integral image's index pairs
    (k, k + 1) around each edge, interleaved, and the fraction of the way from k to k + 1."""
    edges = np.linspace(0, n, size + 1)
    lo = np.minimum(np.floor(edges).astype(np.int64), n - 1)
    pairs = np.stack([lo, lo + 1], axis=1).ravel()
    return pairs, edges - lo


def histogram(gray: np.ndarray) -> np.ndarray:
    """Pixel count per level 0..255 of a uint8 image (float64), exact.

    Counted over pairs of horizontal neighbours, as a 256×256 histogram whose row and column sums are
    the counts of the first and second pixel of each pair: half as many increments as one per pixel,
    and neighbours of the same level (a smooth region) no longer queue on one counter, a quarter
    less time than `cv2.calcHist` on camera-size photos. An odd last column is counted on its own.
    """
    h, w = gray.shape[:2]
    even = w - w % 2
    if h == 0 or even == 0:
        return cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    left = gray if even == w else gray[:, :even]
    pairs = (left if left.flags.c_contiguous else np.ascontiguousarray(left)).reshape(h, even // 2, 2)
    joint = cv2.calcHist([pairs], [0, 1], None, [256, 256], [0, 256, 0, 256])
    counts = joint.sum(axis=0, dtype=np.float64) + joint.sum(axis=1, dtype=np.float64)
    if even != w:
        counts += cv2.calcHist([np.ascontiguousarray(gray[:, -1:])], [0], None, [256], [0, 256]).ravel()
    return counts


def percentile(histogram: np.ndarray, q: float) -> int:
    """The smallest level at or below which a share ``q`` (0..1) of what a histogram counts lies."""
    cumulative = np.cumsum(histogram)
    return int(np.searchsorted(cumulative, q * cumulative[-1]))


def mean_var(array: np.ndarray) -> tuple[float, float]:
    """Mean and population variance of a single-channel array (sum and sum of squares in float64:
    exact for the 16-bit integer images metrics use, and much faster than meanStdDev on them)."""
    n = array.size
    mean = cv2.sumElems(array)[0] / n
    return mean, max(cv2.norm(array, cv2.NORM_L2SQR) / n - mean * mean, 0.0)


def reduction(width: int, height: int, side: int | None = None) -> int:
    """The analysis scale denominator (1, 2, 4 or 8) of an image of this size."""
    side = ANALYSIS_SIDE if side is None else side
    longest = max(width, height)
    return max([1] + [s for s in REDUCED if side and longest // s >= side])


def decode(data: bytes | np.ndarray, side: int | None = None) -> Image:
    """Decode file bytes into an `Image` at analysis resolution (``side``: the longest side to keep,
    default `ANALYSIS_SIDE`; 0 for full resolution), or raise `DecodeError` saying why not."""
    check_bytes(data)
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    size = file_size(buffer)
    scale = reduction(*size, side) if size else 1
    if scale > 1:
        bgr = decode_pixels(buffer, scale)
        if abs(bgr.shape[1] * scale - size[0]) < scale and abs(bgr.shape[0] * scale - size[1]) < scale:
            return Image(bgr, size, buffer)
        # else the header's size disagrees with the pixels: trust the pixels, decoded at full size
    return Image(decode_pixels(buffer))


def read(path: str | Path, side: int | None = None) -> Image:
    """Read (a path or an object-store URI, see `qmdb.uris`) and decode one file at analysis resolution."""
    return decode(read_bytes_or_fail(path), side)
