"""More annotators of the demo's digits: each relabels a share of the images with their own
error rate, one of them deliberately careless, so every image has one to four labels.

The first labels (alice, bob, chen, dana: `spec.ANNOTATORS`) cover every image once. The
annotators here draw their images and their mistakes from a seeded generator and the truth
kept in `label_truth`; a mistake takes the digit's usual confusion (`spec.FLIP_PAIRS`) with
probability `spec.PAIR_SHARE`, otherwise another class uniformly. Their labels go in through
the public importer (`qmdb.importers.annotators.import_annotator`, a label table per
annotator), and their truth into `label_truth`, so consensus and annotator quality can be
checked against what really happened.

`add_box_annotators(con)` does the same for the scenes' boxes: each of `BOX_ANNOTATORS` redraws
every object of a share of the scenes from the truth, with their own corner jitter, missed
objects and wrong classes.

Both fit `qmdb.demo.build`'s post-import steps (``function(con, **kwargs)``).
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
# box annotator → (share of the scenes they relabel, corner jitter as a share of the box side,
# share of objects missed, share of classes wrong): "joe" is careless.
BOX_ANNOTATORS: dict[str, tuple[float, float, float, float]] = {
    "hana": (0.7, 0.02, 0.03, 0.02),
    "ivan": (0.7, 0.03, 0.05, 0.03),
    "joe": (0.7, 0.12, 0.25, 0.20),
}
# the true objects of a scene: its labels' true boxes (a duplicate box is no object) and the missed ones
_TRUE_OBJECTS = """
SELECT i.path, i.width, i.height, t.true_class AS class, t.true_x AS x, t.true_y AS y, t.true_w AS w, t.true_h AS h
FROM labels l JOIN images i USING (image_id) JOIN label_truth t USING (label_id)
WHERE i.dataset = $dataset AND l.w IS NOT NULL AND NOT contains(l.source_id, ':')
  AND coalesce(t.noise, '') <> 'duplicate_box' AND t.true_w IS NOT NULL
UNION ALL
SELECT i.path, i.width, i.height, m.class, m.x, m.y, m.w, m.h
FROM label_truth_missing m JOIN images i USING (image_id) WHERE i.dataset = $dataset
ORDER BY path, x, y"""


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


def add_box_annotators(con: duckdb.DuckDBPyConnection, *, dataset: str = spec.SCENES_DATASET,
                       annotators: dict[str, tuple[float, float, float, float]] | None = None,
                       seed: int = spec.SEED + SEED_OFFSET + 1) -> dict[str, int]:
    """Import each box annotator's redrawing of `dataset`'s objects (a demo database); returns {annotator: boxes}."""
    annotators = BOX_ANNOTATORS if annotators is None else annotators
    rng = np.random.default_rng(seed)
    truth = con.sql(_TRUE_OBJECTS, params={"dataset": dataset}).to_arrow_table()
    (root,) = con.execute("SELECT root FROM datasets WHERE name = ?", [dataset]).fetchall()[0]
    paths = np.asarray(truth["path"].to_pylist(), dtype=object)
    box = np.stack([truth[c].to_numpy() for c in ("x", "y", "w", "h")], axis=1)
    size = np.stack([truth["width"].to_numpy(), truth["height"].to_numpy()], axis=1).astype(float)
    classes = np.asarray(truth["class"].to_pylist(), dtype=int)
    scenes, scene_of = np.unique(paths, return_inverse=True)
    counts = {}
    with tempfile.TemporaryDirectory(prefix="qmdb-annotators-") as folder:
        for name, (share, jitter, miss, wrong) in annotators.items():
            keep = (rng.random(len(scenes)) < share)[scene_of] & (rng.random(len(paths)) >= miss)
            side = np.repeat(box[keep, 2:], 2, axis=0).reshape(-1, 4)[:, [0, 2, 1, 3]]
            corners = np.concatenate([box[keep, :2], box[keep, :2] + box[keep, 2:]], axis=1)
            corners = corners + rng.normal(0, jitter, size=corners.shape) * side
            corners = np.clip(corners, 0, np.tile(size[keep], 2))
            corners[:, 2:] = np.maximum(corners[:, 2:], corners[:, :2] + 1)
            given = mislabel(classes[keep], rng.random(int(keep.sum())) < wrong, rng)
            file = Path(folder) / f"{name}.csv"
            pacsv.write_csv(pa.table({
                "path": paths[keep].tolist(), "class": given.astype(str),
                "x": corners[:, 0], "y": corners[:, 1], "w": corners[:, 2] - corners[:, 0], "h": corners[:, 3] - corners[:, 1],
            }), file)
            counts[name] = import_annotator(con, "table", file, annotator=name, name=dataset, root=root).labels
    return counts
