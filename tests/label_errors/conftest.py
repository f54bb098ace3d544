"""Noisy digits: real images, labels flipped at a known rate, a real model's out-of-fold probabilities."""

import functools

import pytest
from sklearn.datasets import load_digits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import cross_val_predict

import qmdb
from qmdb.label_errors import flip_labels, load_classification

SETTINGS = [("symmetric", 0.05), ("symmetric", 0.10), ("class_conditional", 0.05), ("class_conditional", 0.10)]
CLASSES = [str(k) for k in range(10)]


@functools.lru_cache(maxsize=None)
def noisy_digits(mode: str, rate: float):
    """(pixels, true labels, given labels, out-of-fold probabilities trained on the given labels)."""
    X, y = load_digits(return_X_y=True)
    given = flip_labels(y, rate, mode, seed=1)
    # linear discriminant analysis: a real classifier (about 90% accurate here) that fits in a second
    probs = cross_val_predict(LinearDiscriminantAnalysis(), X / 16, given, cv=5, method="predict_proba")
    return X, y, given, probs


@functools.lru_cache(maxsize=None)
def shared_project(mode: str, rate: float):
    """One project per setting, shared by the tests that only read it."""
    return project(mode, rate)


def project(mode: str, rate: float):
    """A fresh in-memory project holding the noisy digits and the model 'digits-logreg'."""
    X, y, given, probs = noisy_digits(mode, rate)
    con = qmdb.connect()
    load_classification(con, dataset="digits", model="digits-lda", root="digits",
                        paths=[f"{k}/{i:04d}.png" for i, k in enumerate(y)], given=given, probs=probs,
                        class_names=CLASSES, truth=y, noise=mode)
    return con


@pytest.fixture(params=SETTINGS, ids=[f"{m}-{int(r * 100)}pct" for m, r in SETTINGS])
def setting(request):
    return request.param
