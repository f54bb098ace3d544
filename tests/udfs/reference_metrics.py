"""The built-in image metrics as they were computed before the fused statistics pass (frozen copy).

`tests/udfs/test_golden_metrics.py` compares the registry's metrics with these on real images: each
function here is the metric's code at the version it still carries, written against the plain
per-array derivations (grey conversion, histogram, Laplacian, HSV-free colour planes) it used, so
that a faster implementation is checked against the definition it replaced, not against itself.
Do not "optimise" this file.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SPAN, HALF = 9, 4
_BITS = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def _mean_var(array):
    n = array.size
    mean = cv2.sumElems(array)[0] / n
    return mean, max(cv2.norm(array, cv2.NORM_L2SQR) / n - mean * mean, 0.0)


def _half(bgr):
    h, w = bgr.shape[0] // 2, bgr.shape[1] // 2
    if h == 0 or w == 0:
        return bgr
    return cv2.resize(bgr[:2 * h, :2 * w], (w, h), interpolation=cv2.INTER_AREA)


def _chroma(bgr):
    b, g, r = cv2.split(bgr)
    top = cv2.max(cv2.max(b, g), r)
    return top, cv2.subtract(top, cv2.min(cv2.min(b, g), r))


def _percentile(hist, q):
    cumulative = np.cumsum(hist)
    return int(np.searchsorted(cumulative, q * cumulative[-1]))


def _times_span(d):
    eight = cv2.add(d, d)
    eight = cv2.add(eight, eight)
    eight = cv2.add(eight, eight)
    return cv2.add(eight, d)


def _axis(gray, vertical):
    if vertical:
        padded = cv2.copyMakeBorder(gray, HALF, HALF, 0, 0, cv2.BORDER_REFLECT_101)
        d, ds = cv2.absdiff(gray[1:], gray[:-1]), cv2.absdiff(padded[SPAN:], padded[:-SPAN])
    else:
        padded = cv2.copyMakeBorder(gray, 0, 0, HALF, HALF, cv2.BORDER_REFLECT_101)
        d, ds = cv2.absdiff(gray[:, 1:], gray[:, :-1]), cv2.absdiff(padded[:, SPAN:], padded[:, :-SPAN])
    return SPAN * cv2.sumElems(d)[0], cv2.sumElems(cv2.min(_times_span(d), ds))[0]


def _area_resize(gray, size):
    h, w = gray.shape
    integral = cv2.integral(gray, sdepth=cv2.CV_64F).astype(np.float64)
    out = np.empty((size, size))
    ys, xs = np.linspace(0, h, size + 1), np.linspace(0, w, size + 1)

    def at(y, x):  # the integral image, bilinear between pixel corners: area-weighted fractional pixels
        y0, x0 = min(int(y), h - 1), min(int(x), w - 1)
        fy, fx = y - y0, x - x0
        top = integral[y0, x0] + (integral[y0, x0 + 1] - integral[y0, x0]) * fx
        bottom = integral[y0 + 1, x0] + (integral[y0 + 1, x0 + 1] - integral[y0 + 1, x0]) * fx
        return top + (bottom - top) * fy

    for i in range(size):
        for j in range(size):
            out[i, j] = at(ys[i + 1], xs[j + 1]) - at(ys[i], xs[j + 1]) - at(ys[i + 1], xs[j]) + at(ys[i], xs[j])
    return out / ((h / size) * (w / size))


def values(bgr: np.ndarray, size: tuple[int, int] | None = None) -> dict[str, object]:
    """Every built-in image metric of the analysed pixels `bgr` (the file's size `size`, default theirs)."""
    ph, pw = bgr.shape[:2]
    width, height = size or (pw, ph)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    mean, std = (float(v[0, 0]) for v in cv2.meanStdDev(gray))
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum()) + 0.0
    n = pw * ph
    b, g, r, _ = cv2.sumElems(bgr)
    total = (r + g + b) / n
    shares = [c / n / total if total else 1 / 3 for c in (r, g, b)]
    half = _half(bgr)
    hb, hg, hr = cv2.split(half)
    m_rg, v_rg = _mean_var(cv2.subtract(hr, hg, dtype=cv2.CV_16S))
    m_yb2, v_yb2 = _mean_var(cv2.subtract(cv2.add(hr, hg, dtype=cv2.CV_16S), cv2.add(hb, hb, dtype=cv2.CV_16S)))
    top, chroma = _chroma(half)
    blur = None
    if pw >= 2 and ph >= 2:
        parts = [kept / total for total, kept in (_axis(gray, v) for v in (True, False)) if total]
        blur = max(parts) if parts else None
    noise = None
    if pw >= 3 and ph >= 3:
        kernel = np.array([1, -2, 1], np.float32)
        response = cv2.sepFilter2D(gray, cv2.CV_16S, kernel, kernel)[1:-1, 1:-1]
        noise = math.sqrt(math.pi / 2) * cv2.norm(response, cv2.NORM_L1) / (6 * (pw - 2) * (ph - 2))
    half_gray = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
    low = cv2.dct(_area_resize(half_gray, 32))[:8, :8].ravel()
    return {
        "area": width * height, "aspect_ratio": width / height, "width": width, "height": height,
        "brightness": mean / 255.0, "contrast": std / 255.0, "entropy": entropy,
        "redness": shares[0], "greenness": shares[1], "blueness": shares[2],
        "blurriness": blur, "is_blurry": None if blur is None else blur >= 0.45,
        "colorfulness": math.sqrt(v_rg + v_yb2 / 4) + 0.3 * math.hypot(m_rg, m_yb2 / 2),
        "is_dark": _percentile(hist, 0.99) < 82, "is_overexposed": _percentile(hist, 0.05) >= 243,
        "is_grayscale": np.count_nonzero(chroma > 8) <= 0.01 * half.shape[0] * half.shape[1],
        "is_low_information": entropy < 2.0,
        "noise": noise,
        "phash": int(np.bitwise_or.reduce(_BITS[low > np.median(low)], initial=np.uint64(0))),
        "saturation": cv2.mean(cv2.divide(chroma, cv2.max(top, 1), dtype=cv2.CV_32F))[0],
        "sharpness": _mean_var(cv2.Laplacian(gray, cv2.CV_16S, ksize=1))[1],
    }
