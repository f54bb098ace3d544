"""Real photos and known-faulty copies of them, written to a folder: the set on which qmdb's issue
flags are checked against CleanVision's (`qmdb.health.agreement`, tests/health, bench/hygiene.py).

The photos are the ones scikit-learn and scikit-image ship (none made by qmdb's developers). Each
copy has one planted fault, named by its folder (the class of a `folders` import): `original`,
`dark` (×0.12), `light` (255 − 0.04·(255 − x)), `blurry` (Gaussian σ = 6), `dark_blurry`, `strip`
(a quarter-height crop: aspect ratio ≤ 0.3), `huge` (upscaled to 2600 px), `copy` (the same bytes
again), `near` (resized to 90 % and re-encoded as JPEG) and `gray` (single-channel PNG).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import PIL.Image

# scikit-image's photographs (3-D: colour, 2-D: grey); `cat` is `chelsea` again, an exact duplicate
SKIMAGE = ("astronaut", "brick", "camera", "cat", "cell", "chelsea", "clock", "coffee", "coins", "grass",
           "gravel", "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page", "retina",
           "rocket", "text")
SKLEARN = ("china.jpg", "flower.jpg")

# fault → the photos (by position in `photos()`) it is planted on
PLANTED = {
    "dark": (0, 7, 11, 17, 19), "light": (2, 12, 20), "blurry": (1, 5, 9, 13, 16, 20),
    "dark_blurry": (3, 10, 18), "strip": (6, 14), "huge": (8,), "copy": (4, 15), "near": (0, 7, 17),
    "gray": (5, 19, 20),
}


def photos() -> dict[str, np.ndarray]:
    """name → pixels (H×W×3 RGB or H×W grey, uint8), sorted by name."""
    from skimage import data
    from sklearn.datasets import load_sample_image

    found = {name: np.asarray(getattr(data, name)(), np.uint8) for name in SKIMAGE}
    found.update({name.removesuffix(".jpg"): load_sample_image(name) for name in SKLEARN})
    return dict(sorted(found.items()))


def _fault(pixels: np.ndarray, fault: str) -> np.ndarray:
    x = pixels.astype(np.float32)
    if fault in ("dark", "dark_blurry"):
        x = x * 0.12
    if fault == "light":
        x = 255 - 0.04 * (255 - x)
    if fault in ("blurry", "dark_blurry"):
        x = cv2.GaussianBlur(x, (0, 0), 6)
    if fault == "strip":
        x = x[: max(1, x.shape[0] // 4)]
    if fault == "huge":
        x = cv2.resize(x, (2600, 2600), interpolation=cv2.INTER_CUBIC)
    if fault == "gray" and x.ndim == 3:
        x = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def write(folder: str | Path) -> list[Path]:
    """Write the originals and the faulty copies as `folder/<fault>/<photo>.png` (`near`: .jpg);
    returns the files written, sorted."""
    folder = Path(folder)
    images = photos()
    names = list(images)
    written = []
    plan = [("original", name) for name in names]
    plan += [(fault, names[k]) for fault, picks in PLANTED.items() for k in picks]
    for fault, name in plan:
        pixels = images[name]
        (folder / fault).mkdir(parents=True, exist_ok=True)
        if fault == "near":
            small = cv2.resize(pixels, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
            path = folder / fault / f"{name}.jpg"
            PIL.Image.fromarray(small).save(path, quality=92)
        else:
            path = folder / fault / f"{name}.png"
            source = pixels if fault in ("original", "copy") else _fault(pixels, fault)
            PIL.Image.fromarray(source).save(path)
        written.append(path)
    return sorted(written)
