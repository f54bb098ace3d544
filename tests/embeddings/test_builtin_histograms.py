"""The descriptor's vectorized orientation histograms and block means against their definition, written out."""

import numpy as np

from qmdb.embeddings import builtin

from .conftest import photographs


def reference_histograms(grey):
    """The definition, bin by bin: magnitude × max(0, 1 − circular distance to the bin), mean over 8×8 cells."""
    gy, gx = np.gradient(grey.astype(np.float64), axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi) * (builtin.BINS / np.pi)
    n = grey.shape[0]
    cells = np.empty((n, 8, 8, builtin.BINS))
    for b in range(builtin.BINS):
        distance = np.abs(angle - b)
        weight = magnitude * np.maximum(0.0, 1.0 - np.minimum(distance, builtin.BINS - distance))
        cells[..., b] = weight.reshape(n, 8, 8, 8, 8).mean(axis=(2, 4))
    return cells


def greys():
    thumbs = np.stack([builtin._thumbnail(p) for p in photographs()]).astype(np.float32) / 255.0
    flat = np.zeros((1, 64, 64), np.float32)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))[None]
    return np.concatenate([thumbs @ builtin._GREY, flat, ramp, ramp.transpose(0, 2, 1), -ramp])


def test_orientation_histograms_match_the_definition():
    # cv2.cartToPolar's orientation is good to about 0.3°: cells move by at most 2.4e-5 here (values ~0.01)
    grey = greys()
    np.testing.assert_allclose(builtin._orientation_histograms(grey), reference_histograms(grey), atol=3e-5)


def test_vectors_match_those_of_the_exact_orientations(monkeypatch):
    images = [np.ascontiguousarray(p) for p in photographs()]
    fast = builtin.describe(images)
    monkeypatch.setattr(builtin, "_orientation_histograms", lambda g: reference_histograms(g).astype(np.float32))
    exact = builtin.describe(images)
    assert (fast * exact).sum(axis=1).min() > 0.99999


def test_block_mean_is_the_mean_of_each_block():
    a = np.random.default_rng(0).random((3, 64, 64, 2)).astype(np.float32)
    expected = a.astype(np.float64).reshape(3, 4, 16, 4, 16, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(builtin._block_mean(a, 16), expected, atol=1e-6)
