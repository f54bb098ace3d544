"""Image metrics against an independent numpy computation on the same pixels, and on controlled real images."""

import math

import cv2
import numpy as np
import pytest
import scipy.fft
import skimage.measure

from qmdb.udfs import registry
from qmdb.udfs.compute import image_values
from qmdb.udfs.pixels import Image

from .conftest import photos, variants

ALL = variants()


def values(bgr: np.ndarray) -> dict:
    result, problems = image_values(Image(bgr), registry.metrics("image"))
    assert problems == []
    return result


def gray_np(bgr):
    b, g, r = (bgr[..., i].astype(np.float64) for i in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b


def laplacian_np(gray):
    p = np.pad(gray.astype(np.float64), 1, mode="reflect")  # numpy 'reflect' = OpenCV's BORDER_REFLECT_101
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * p[1:-1, 1:-1]


def blur_effect_np(gray, span=9):
    g = gray.astype(np.int64)
    scores = []
    for axis in (0, 1):
        half = span // 2
        pad = [(half, half) if a == axis else (0, 0) for a in range(2)]
        p = np.pad(g, pad, mode="reflect")
        sums = sum(np.take(p, range(k, k + g.shape[axis]), axis=axis) for k in range(span))
        d = np.abs(np.diff(g, axis=axis))
        db = np.abs(np.diff(sums, axis=axis))
        total = span * d.sum()
        kept = np.minimum(span * d, db).sum()
        scores.append(kept / total)
    return max(scores)


def half_np(bgr):
    """Mean of each 2×2 block, rounded half up: where colour is measured."""
    h, w = bgr.shape[0] // 2 * 2, bgr.shape[1] // 2 * 2
    blocks = bgr[:h, :w].astype(np.int64).reshape(h // 2, 2, w // 2, 2, 3).sum(axis=(1, 3))
    return ((blocks + 2) // 4).astype(np.uint8)


def colour_np(bgr) -> dict:
    rgb = bgr[..., ::-1].astype(np.float64)
    mx, mn = rgb.max(axis=2), rgb.min(axis=2)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return {
        "saturation": np.where(mx > 0, (mx - mn) / np.where(mx > 0, mx, 1), 0).mean(),
        "colorfulness": math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()),
        "is_grayscale": bool(((mx - mn) > 8).mean() <= 0.01),
    }


def noise_np(gray):
    g = gray.astype(np.float64)
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])
    h, w = g.shape
    conv = sum(k[i, j] * g[i:h - 2 + i, j:w - 2 + j] for i in range(3) for j in range(3))
    return math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6 * (w - 2) * (h - 2))


@pytest.mark.parametrize("name", ["china", "flower", "astronaut", "coffee", "camera", "chelsea_dark"])
def test_values_match_an_independent_computation(name):
    bgr = ALL[name]
    got = values(bgr)
    h, w = bgr.shape[:2]
    assert (got["width"], got["height"], got["area"]) == (w, h, w * h)
    assert got["aspect_ratio"] == pytest.approx(w / h)
    gray_ref = gray_np(bgr)
    assert got["brightness"] == pytest.approx(gray_ref.mean() / 255, abs=2e-3)
    assert got["contrast"] == pytest.approx(gray_ref.std() / 255, abs=2e-3)
    half = half_np(bgr)
    colour = colour_np(half)
    assert got["saturation"] == pytest.approx(colour["saturation"], abs=1e-6)
    assert got["colorfulness"] == pytest.approx(colour["colorfulness"], rel=1e-9, abs=1e-9)
    assert got["is_grayscale"] == colour["is_grayscale"]
    rgb = bgr[..., ::-1].astype(np.float64)
    means = rgb.reshape(-1, 3).mean(axis=0)
    for i, channel in enumerate(["redness", "greenness", "blueness"]):
        assert got[channel] == pytest.approx(means[i] / means.sum(), rel=1e-9)
    # metrics defined on the grey image: same grey pixels (OpenCV's BT.601 conversion), numpy from there
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    assert got["sharpness"] == pytest.approx(laplacian_np(gray).var(), rel=1e-9)
    assert got["blurriness"] == pytest.approx(blur_effect_np(gray), rel=1e-9)
    # grey levels are counted over every other pixel of every other row from 512 × 512 pixels on
    levels = gray[::2, ::2] if gray.size >= 512 * 512 else gray
    assert got["entropy"] == pytest.approx(skimage.measure.shannon_entropy(levels), rel=1e-9)
    assert got["brightness"] == pytest.approx(levels.mean() / 255, rel=1e-9)
    assert got["contrast"] == pytest.approx(levels.std() / 255, rel=1e-9)
    assert got["noise"] == pytest.approx(noise_np(gray), rel=1e-9)
    assert got["is_dark"] == bool(np.percentile(levels, 99, method="inverted_cdf") < 82)
    assert got["is_overexposed"] == bool(np.percentile(gray, 5, method="inverted_cdf") >= 243)
    assert got["is_low_information"] == bool(skimage.measure.shannon_entropy(gray) < 2)
    half_gray = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(half_gray.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    low = scipy.fft.dctn(small, norm="ortho")[:8, :8].ravel()
    bits = "".join("1" if v > np.median(low) else "0" for v in low)
    assert bin(got["phash"] ^ int(bits, 2)).count("1") <= 1  # float32 vs float64 near the median


@pytest.mark.parametrize("name", ["china", "flower", "astronaut", "coffee", "camera"])
def test_colour_at_colour_resolution_stays_close_to_every_pixel(name):
    image = Image(ALL[name])
    assert np.array_equal(image.half.bgr, half_np(ALL[name]))
    got, every_pixel = values(ALL[name]), colour_np(ALL[name])
    # averaging 2×2 blocks removes luminance texture from the colour (china, the most textured: −0.022, −2.2 %)
    assert got["saturation"] == pytest.approx(every_pixel["saturation"], abs=0.025)
    assert got["colorfulness"] == pytest.approx(every_pixel["colorfulness"], rel=0.03)
    assert got["is_grayscale"] == every_pixel["is_grayscale"]


def test_colour_resolution_of_tiny_and_odd_images():
    odd = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    assert Image(odd).half.bgr.shape == (2, 3, 3)
    line = np.zeros((1, 7, 3), np.uint8)
    assert Image(line).half is not None and Image(line).half.bgr.shape == (1, 7, 3)
    assert values(line)["saturation"] == 0


@pytest.mark.parametrize("name", list(photos()))
def test_darkened_photo_is_darker_and_flagged(name):
    original, dark = values(ALL[name]), values(ALL[f"{name}_dark"])
    assert dark["brightness"] < 0.5 * original["brightness"]
    assert dark["contrast"] < original["contrast"]
    assert dark["is_dark"] and not original["is_dark"]


@pytest.mark.parametrize("name", list(photos()))
def test_blurred_photo_is_less_sharp_and_blurrier(name):
    original, blurred = values(ALL[name]), values(ALL[f"{name}_blurred"])
    assert blurred["sharpness"] < 0.2 * original["sharpness"]
    assert blurred["blurriness"] > original["blurriness"] + 0.1
    assert blurred["noise"] < original["noise"]
    assert abs(blurred["brightness"] - original["brightness"]) < 0.01


def test_added_noise_is_estimated():
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur(ALL["coffee"], (0, 0), 2)
    base = values(smooth)["noise"]
    luminance_noise = rng.normal(0, 10, smooth.shape[:2])[..., None]  # the same on R, G, B: σ = 10 grey levels
    noisy = np.clip(smooth + luminance_noise, 0, 255).round().astype(np.uint8)
    assert values(noisy)["noise"] - base == pytest.approx(10, abs=1.5)


def test_colour_flags_and_dominance():
    assert values(ALL["camera"])["is_grayscale"] and not values(ALL["coffee"])["is_grayscale"]
    assert values(ALL["camera"])["saturation"] == 0
    reddened = ALL["coffee"].copy()
    reddened[..., 2] = np.clip(reddened[..., 2].astype(int) + 80, 0, 255)
    assert values(reddened)["redness"] > values(ALL["coffee"])["redness"]
    assert values(reddened)["colorfulness"] > values(ALL["coffee"])["colorfulness"]
    washed = np.clip(ALL["china"].astype(int) + 230, 0, 255).astype(np.uint8)  # nearly white (CleanVision: light)
    assert values(washed)["is_overexposed"] and not values(ALL["china"])["is_overexposed"]
    flat = np.full((64, 64, 3), 128, np.uint8)
    got = values(flat)
    assert got["is_low_information"] and got["entropy"] == 0 and got["blurriness"] is None


def test_phash_finds_near_duplicates():
    china = ALL["china"]
    resized = cv2.resize(china, (320, 214), interpolation=cv2.INTER_AREA)
    recompressed = cv2.imdecode(cv2.imencode(".jpg", china, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)

    def distance(a, b):
        return bin(values(a)["phash"] ^ values(b)["phash"]).count("1")

    assert distance(china, resized) <= 4
    assert distance(china, recompressed) <= 4
    assert all(distance(china, ALL[other]) > 12 for other in ("flower", "astronaut", "coffee", "camera"))
