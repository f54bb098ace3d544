"""More annotators of the demo's digits: each relabels a share of the images with their own
error rate, one of them deliberately careless, so every image has one to four labels.

The first labels (alice, bob, chen, dana: `spec.ANNOTATORS`) cover every image once. The
annotators here draw their images and their mistakes from a seeded generator and the truth
kept in `label_truth`; a mistake takes the digit's usual confusion (`spec.FLIP_PAIRS`) with
probability `spec.PAIR_SHARE`, otherwise another class uniformly. Their labels go in through
the public importer (`qmdb.importers.annotators.import_annotator`, a label table per
annotator), and their truth into `label_truth`, so consensus and annotator quality can be
checked against what really happened.

`add_annotators(con)` fits `qmdb.demo.build`'s post-import steps (``function(con, **kwargs)``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..importers.annotators import import_annotator
from ..transaction import transaction
from . import spec

# annotator → (share of the images they relabel, share of their labels that are wrong): "gus" is careless.
EXTRA_ANNOTATORS: dict[str, tuple[float, float]] = {
    "erin": (0.6, 0.04),
    "femi": (0.5, 0.07),
    "gus": (0.5, 0.45),
}
SEED_OFFSET = 20   # the extra annotators' generator is seeded with spec.SEED + SEED_OFFSET


def mislabel(truth: np.ndarray, wrong: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`truth` (digit classes) with the `wrong` ones replaced as annotators confuse digits.

    >>> rng = np.random.default_rng(0)
    >>> truth = np.arange(10)
    >>> given = mislabel(truth, np.ones(10, dtype=bool), rng)
    >>> bool((given != truth).all()), sorted(set(given.tolist()) - set(range(10)))
    (True, [])
    """
    partner = np.full(10, -1)
    for a, b in spec.FLIP_PAIRS:
        partner[a], partner[b] = b, a
    use_pair = (partner[truth] >= 0) & (rng.random(len(truth)) < spec.PAIR_SHARE)
    other = (truth + rng.integers(1, 10, size=len(truth))) % 10
    return np.where(wrong, np.where(use_pair, partner[truth], other), truth)


def add_annotators(con: duckdb.DuckDBPyConnection, *, dataset: str = spec.DIGITS_DATASET,
                   annotators: dict[str, tuple[float, float]] | None = None,
                   seed: int = spec.SEED + SEED_OFFSET) -> dict[str, int]:
    """Import each extra annotator's labels of `dataset` (a demo database); returns {annotator: labels}."""
    annotators = EXTRA_ANNOTATORS if annotators is None else annotators
    rng = np.random.default_rng(seed)
    base = con.sql(
        "SELECT i.path, t.true_class FROM labels l JOIN images i USING (image_id) JOIN label_truth t USING (label_id) "
        "WHERE i.dataset = ? AND l.w IS NULL AND NOT contains(l.source_id, ':') ORDER BY i.path", params=[dataset]).to_arrow_table()
    (root,) = con.execute("SELECT root FROM datasets WHERE name = ?", [dataset]).fetchall()[0]
    paths = np.asarray(base["path"].to_pylist(), dtype=object)
    truth = np.asarray(base["true_class"].to_pylist(), dtype=int)
    counts = {}
    with tempfile.TemporaryDirectory(prefix="qmdb-annotators-") as folder:
        for name, (share, error_rate) in annotators.items():
            chosen = np.flatnonzero(rng.random(len(paths)) < share)
            given = mislabel(truth[chosen], rng.random(len(chosen)) < error_rate, rng)
            file = Path(folder) / f"{name}.csv"
            pacsv.write_csv(pa.table({"path": paths[chosen].tolist(), "class": given.astype(str)}), file)
            counts[name] = import_annotator(con, "table", file, annotator=name, name=dataset, root=root).labels
            rows = pa.table({"path": paths[chosen].tolist(), "source_id": [f"{name}:0"] * len(chosen),
                             "true_class": truth[chosen].astype(str),
                             "noise": np.where(given != truth[chosen], "annotator", None).tolist()})
            with transaction(con, _qmdb_truth=rows):
                con.execute(
                    "INSERT OR REPLACE INTO label_truth (label_id, true_class, noise) "
                    "SELECT l.label_id, t.true_class, t.noise FROM _qmdb_truth t "
                    "JOIN images i ON i.dataset = ? AND i.path = t.path "
                    "JOIN labels l ON l.image_id = i.image_id AND l.source_id = t.source_id", [dataset])
    return counts
