"""Known label noise, for measuring label-error finders: flip a share of labels and keep the truth.

Two kinds of noise, as in the confident-learning literature:

- ``symmetric``: a flipped label takes any other class, uniformly;
- ``class_conditional``: each class has its own flip rate and flips to one
  fixed "confusable" class (a random derangement), as annotators do.

>>> import numpy as np
>>> true = np.repeat(np.arange(10), 100)
>>> noisy = flip_labels(true, 0.1, "symmetric", seed=0)
>>> int((noisy != true).sum())
100
"""

from __future__ import annotations

import numpy as np

MODES = ("symmetric", "class_conditional")


def _derangement(k: int, rng: np.random.Generator) -> np.ndarray:
    while True:
        perm = rng.permutation(k)
        if not (perm == np.arange(k)).any():
            return perm


def flip_labels(labels: np.ndarray, rate: float, mode: str = "symmetric", *, seed: int = 0) -> np.ndarray:
    """Return a copy of integer `labels` with exactly round(rate * n) of them changed to another class.

    Args:
        labels: true classes, integers 0..K-1.
        rate: share of labels to flip, 0..1.
        mode: ``symmetric`` (uniform other class) or ``class_conditional``
            (per-class rates between 0.25x and 1.75x the mean, each class
            flipping to one fixed other class).
        seed: random seed, so a benchmark can be rerun.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got '{mode}'")
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    k = int(labels.max()) + 1
    n_flip = int(round(rate * len(labels)))
    noisy = labels.copy()
    if mode == "symmetric":
        chosen = rng.choice(len(labels), n_flip, replace=False)
        offset = rng.integers(1, k, size=n_flip)
        noisy[chosen] = (labels[chosen] + offset) % k
    else:
        class_rate = rng.uniform(0.25, 1.75, size=k)
        weights = class_rate[labels]
        chosen = rng.choice(len(labels), n_flip, replace=False, p=weights / weights.sum())
        noisy[chosen] = _derangement(k, rng)[labels[chosen]]
    return noisy
