"""The real pixels the demo is made of: scikit-learn's digits and the photographs
scikit-learn and scikit-image ship. Nothing is downloaded."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Photographs the detection scenes are cut from: (package, name), all bundled in the wheels.
PHOTOS: tuple[tuple[str, str], ...] = (
    ("sklearn", "china.jpg"),
    ("sklearn", "flower.jpg"),
    ("skimage", "astronaut"),
    ("skimage", "coffee"),
    ("skimage", "chelsea"),
    ("skimage", "rocket"),
    ("skimage", "camera"),
    ("skimage", "coins"),
    ("skimage", "immunohistochemistry"),
    ("skimage", "retina"),
    ("skimage", "hubble_deep_field"),
    ("skimage", "brick"),
    ("skimage", "grass"),
    ("skimage", "gravel"),
)


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 scikit-learn digits as (images uint8 N×8×8 scaled to 0..255, targets int)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.rint(data.images * (255.0 / 16.0)).astype(np.uint8)
    return images, data.target.astype(np.int64)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3].astype(np.uint8))


@lru_cache(maxsize=1)
def photos() -> tuple[tuple[str, np.ndarray], ...]:
    """The bundled photographs as (name, RGB uint8 array)."""
    from sklearn.datasets import load_sample_image
    import skimage.data

    loaded = []
    for package, name in PHOTOS:
        image = load_sample_image(name) if package == "sklearn" else getattr(skimage.data, name)()
        loaded.append((name.removesuffix(".jpg"), _to_rgb(image)))
    return tuple(loaded)
