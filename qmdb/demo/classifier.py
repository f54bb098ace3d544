"""The digit classifier "digits-logreg": logistic regression on the PNGs' pixels, trained on
the labels as given (flips included, as a user would), with out-of-fold probabilities from
5-fold cross-validation, so every image is scored by a model that never saw its label."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import spec

MODEL = "digits-logreg"
PROBS = "digits_probs.csv"
PIXELS = 8           # images are read back and resampled to PIXELS×PIXELS
FOLDS = 5


def pixels(root: Path, paths: list[str]) -> np.ndarray:
    """The images under `root` as rows of PIXELS² values in 0..1."""
    images = [cv2.imread(str(root / p), cv2.IMREAD_GRAYSCALE) for p in paths]
    return np.stack([cv2.resize(im, (PIXELS, PIXELS), interpolation=cv2.INTER_AREA).ravel() for im in images]) / 255.0


def run(out: Path, rng: np.random.Generator) -> Path:
    """Write `digits_probs.csv` (path, one probability column per class) from the label table."""
    labels = pacsv.read_csv(out / "digits_labels.csv",
                            convert_options=pacsv.ConvertOptions(column_types={"class": pa.string()}))
    paths = labels["path"].to_pylist()
    x = pixels(out / spec.DIGITS_DATASET, paths)
    y = labels["class"].to_numpy(zero_copy_only=False)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=500))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=int(rng.integers(2**31)))
    probs = cross_val_predict(model, x, y, cv=folds, method="predict_proba")
    classes = np.unique(y)                         # predict_proba's column order
    table = pa.table({"path": paths, **{str(c): np.round(probs[:, i], 6) for i, c in enumerate(classes)}})
    target = out / PROBS
    pacsv.write_csv(table, target)
    return target
