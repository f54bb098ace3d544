"""Label-error finding, qmdb vs cleanlab, on the same out-of-fold probabilities of noisy digits.

For each noise setting (5% and 10% of labels flipped, symmetric and
class-conditional) and each model, the digits' given labels are corrupted, a
real classifier gives out-of-fold probabilities by 5-fold cross-validation,
and both finders run on the same probabilities, side by side in this process:

- qmdb: the view errors_classification (confident learning in SQL, DuckDB);
- cleanlab 2.9: filter.find_label_issues (default filter_by='prune_by_noise_rate').

Printed per row: issues found, precision and recall against the known flips,
the best of `--repeat` timings, and the time ratio qmdb / cleanlab; then the
neighbour score's AUROC (errors_neighbors over a kNN of the pixels).

A last table times both on the LDA probabilities of the 10% symmetric setting
repeated `--scale` times (the same real rows, many times over), to show how
each grows with the number of labels.

    python bench/label_errors.py [--models lda,logreg] [--repeat 3] [--scale 1,10,50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa
from cleanlab.filter import find_label_issues
from sklearn.datasets import load_digits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import qmdb
from qmdb import views
from qmdb.label_errors import flip_labels, load_classification

SETTINGS = [("symmetric", 0.05), ("symmetric", 0.10), ("class_conditional", 0.05), ("class_conditional", 0.10)]
MODELS = {
    "lda": LinearDiscriminantAnalysis,
    "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)),
}


def best_time(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def precision_recall(found: np.ndarray, flipped: np.ndarray) -> tuple[float, float]:
    hits = len(np.intersect1d(found, flipped))
    return hits / max(len(found), 1), hits / len(flipped)


def neighbour_auroc(con, X: np.ndarray, given: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    distance, index = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    n = len(X)
    con.register("knn", pa.table({"item_id": np.repeat(np.arange(1, n + 1), k), "neighbor_id": index[:, 1:].ravel() + 1,
                                  "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), n),
                                  "distance": distance[:, 1:].ravel()}))
    con.execute("CREATE TABLE IF NOT EXISTS neighbors (item_type VARCHAR, model VARCHAR, item_id BIGINT, "
                "neighbor_id BIGINT, rank INTEGER, distance DOUBLE)")
    con.execute("INSERT INTO neighbors (item_type, model, item_id, neighbor_id, rank, distance) "
                "SELECT 'image', 'pixels-knn', * FROM knn")
    views.install(con)
    rows = qmdb.run_view(con, "errors_neighbors", k_neighbors=k).fetchall()
    score = np.zeros(n)
    score[[r[1] - 1 for r in rows]] = [r[9] for r in rows]
    return roc_auc_score(given != y, score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lda,logreg")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", default="1,10,50", help="repeat factors for the timing table")
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    header = (f"{'model':7} {'noise':17} {'rate':>4} | {'qmdb n':>6} {'P':>5} {'R':>5} {'time s':>7} | "
              f"{'cl n':>5} {'P':>5} {'R':>5} {'time s':>7} | {'qmdb/cl':>7} | {'nbr AUROC':>9}")
    print(header)
    print("-" * len(header))
    for model_name in args.models.split(","):
        for mode, rate in SETTINGS:
            given = flip_labels(y, rate, mode, seed=1)
            flipped = np.flatnonzero(given != y)
            probs = cross_val_predict(MODELS[model_name](), X / 16, given, cv=5, method="predict_proba")
            con = qmdb.connect()
            load_classification(con, dataset="digits", model=model_name, root="digits",
                                paths=[f"{i:04d}.png" for i in range(len(y))], given=given, probs=probs,
                                class_names=[str(k) for k in range(10)], truth=y, noise=mode)
            t_ours, rows = best_time(lambda: qmdb.find_label_errors(con, model_name).fetchall(), args.repeat)
            ours = np.array([r[1] - 1 for r in rows])
            t_cl, theirs = best_time(lambda: find_label_issues(given, probs, return_indices_ranked_by="self_confidence",
                                                               n_jobs=1), args.repeat)
            p1, r1 = precision_recall(ours, flipped)
            p2, r2 = precision_recall(theirs, flipped)
            auroc = neighbour_auroc(con, X / 16, given, y)
            print(f"{model_name:7} {mode:17} {rate:4.2f} | {len(ours):6d} {p1:5.3f} {r1:5.3f} {t_ours:7.3f} | "
                  f"{len(theirs):5d} {p2:5.3f} {r2:5.3f} {t_cl:7.3f} | {t_ours / t_cl:7.2f} | {auroc:9.3f}")
    scaling(X, y, [int(f) for f in args.scale.split(",")], args.repeat)


def scaling(X: np.ndarray, y: np.ndarray, factors: list[int], repeat: int) -> None:
    given = flip_labels(y, 0.10, "symmetric", seed=1)
    probs = cross_val_predict(LinearDiscriminantAnalysis(), X / 16, given, cv=5, method="predict_proba")
    print(f"\n{'labels':>8} | {'qmdb s':>7} | {'cleanlab s':>10} | {'qmdb/cl':>7} | same issues")
    for factor in factors:
        g, p = np.tile(given, factor), np.tile(probs, (factor, 1))
        con = qmdb.connect()
        load_classification(con, dataset="digits", model="lda", root="digits",
                            paths=[f"{i:07d}.png" for i in range(len(g))], given=g, probs=p,
                            class_names=[str(k) for k in range(10)])
        t_ours, rows = best_time(lambda: qmdb.find_label_errors(con, "lda").fetchall(), repeat)
        t_cl, theirs = best_time(lambda: find_label_issues(g, p, return_indices_ranked_by="self_confidence",
                                                           n_jobs=1), repeat)
        same = len(set(r[1] - 1 for r in rows) ^ set(theirs.tolist()))
        print(f"{len(g):8d} | {t_ours:7.3f} | {t_cl:10.3f} | {t_ours / t_cl:7.2f} | {len(theirs) - same // 2} of {len(theirs)}")


if __name__ == "__main__":
    main()
