"""Confusion matrix (the `eval_confusion` view), background row and column included."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from .. import views
from ._common import PlotError, figure, pick_model, save


def confusion_data(con: duckdb.DuckDBPyConnection, model: str | None = None, iou_threshold: float = 0.5,
                   min_score: float = 0.5) -> tuple[list[str], np.ndarray]:
    """(classes, counts): counts[i, j] = labels of class i predicted as class j, from `eval_confusion`;
    'background' comes last (as predicted: missed; as true: spurious prediction)."""
    model = pick_model(con, model)
    table = views.run(con, "eval_confusion", model_name=model, iou_threshold=iou_threshold,
                      min_score=min_score).to_arrow_table()
    if table.num_rows == 0:
        raise PlotError(f"eval_confusion has no rows for model '{model}'")
    true, predicted = table["true_class"].to_numpy(zero_copy_only=False), table["predicted_class"].to_numpy(zero_copy_only=False)
    names = sorted(set(true) | set(predicted), key=lambda c: (c == "background", c))
    index = {c: i for i, c in enumerate(names)}
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(counts, (np.vectorize(index.get)(true), np.vectorize(index.get)(predicted)), table["count"].to_numpy())
    return names, counts


def plot_confusion(con: duckdb.DuckDBPyConnection, path: str | Path | None, model: str | None = None,
                   iou_threshold: float = 0.5, min_score: float = 0.5, format: str | None = None) -> Path | bytes:
    """The matrix as a heatmap coloured by share of the true class, each cell labelled with its count."""
    names, counts = confusion_data(con, model, iou_threshold, min_score)
    model = pick_model(con, model)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.45 * len(names)
    fig = figure(size + 1.2, size)
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.55 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted class (background: no prediction = missed)")
    ax.set_ylabel("true class (background: spurious prediction)")
    ax.set_title(f"Confusion matrix: {model} (IoU ≥ {iou_threshold:g}, score ≥ {min_score:g})")
    fig.colorbar(image, ax=ax, label="share of the true class (0..1)", shrink=0.8)
    return save(fig, path, format)
