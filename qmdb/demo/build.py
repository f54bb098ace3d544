"""Building the demo database from the demo data, through qmdb's own importers.

Everything the demo puts in the database goes through the public importers
(`IMPORTS`), except the truth the importers have no format for: `label_truth`
and `label_truth_missing`. Then the post-import steps run, each only if its
module is installed, so the metric runner, the embedder and the evaluation plug
in by one line here.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import duckdb

from ..database import connect
from ..importers import import_dataset, import_metadata, import_predictions
from ..label_errors.arrays import LABEL_TRUTH
from ..transaction import transaction
from . import classifier, detector, spec
from .generate import generate

# (what, importer, source file in the data folder, keyword arguments); a step whose
# dataset / model / column is already in the database is skipped, so a rebuild resumes.
IMPORTS: tuple[tuple[str, str, str, dict], ...] = (
    ("dataset", "table", "digits_labels.csv", {"name": spec.DIGITS_DATASET, "root": spec.DIGITS_DATASET}),
    ("dataset", "coco", "scenes_coco.json", {"name": spec.SCENES_DATASET, "root": spec.SCENES_DATASET, "split": "test"}),
    ("metadata", "", "scenes_metadata.csv", {"dataset": spec.SCENES_DATASET, "key": "path"}),
    ("predictions", "probs", classifier.PROBS, {"model": classifier.MODEL, "dataset": spec.DIGITS_DATASET,
                                                "root": spec.DIGITS_DATASET}),
    ("predictions", "coco", detector.RESULTS, {"model": detector.MODEL, "dataset": spec.SCENES_DATASET,
                                               "root": spec.SCENES_DATASET}),
)

# ---- post-import steps ------------------------------------------------------------
# (label, "module:function", keyword arguments): called as function(con, **kwargs) after
# the imports, in order; a step whose module cannot be imported is skipped (reported).
POST_IMPORT_STEPS: tuple[tuple[str, str, dict], ...] = (
    ("image and label metrics", "qmdb.udfs:compute_metrics", {}),
    ("embeddings and neighbours", "qmdb.embeddings:embed", {"neighbors": 10}),
    ("evaluation of digits-logreg", "qmdb.evaluation:evaluate", {"model": classifier.MODEL}),
    ("evaluation of detector", "qmdb.evaluation:evaluate", {"model": detector.MODEL}),
)

_DONE = {
    "dataset": "SELECT count(*) FROM datasets WHERE name = $name",
    "predictions": "SELECT count(*) FROM models WHERE model = $model",
    "metadata": "SELECT count(*) FROM information_schema.columns WHERE table_name = 'images' AND column_name = 'camera'",
}

TRUTH_SQL = LABEL_TRUTH + """;
CREATE TABLE IF NOT EXISTS label_truth_missing (
    image_id BIGINT NOT NULL, class VARCHAR NOT NULL, x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE);
INSERT INTO label_truth (label_id, true_class, noise)
SELECT l.label_id, t.true_class, t.noise
FROM read_csv($digits, types = {'true_class': 'VARCHAR', 'noise': 'VARCHAR'}) t
JOIN images i ON i.dataset = $digits_name AND i.path = t.path
JOIN labels l ON l.image_id = i.image_id
WHERE l.label_id NOT IN (SELECT label_id FROM label_truth);
INSERT INTO label_truth (label_id, true_class, noise, true_x, true_y, true_w, true_h)
SELECT l.label_id, t.true_class, t.fault, t.x, t.y, t.w, t.h
FROM read_csv($scenes, types = {'true_class': 'VARCHAR', 'class': 'VARCHAR', 'fault': 'VARCHAR'}) t
JOIN images i ON i.dataset = $scenes_name AND i.path = t.file
JOIN labels l ON l.image_id = i.image_id AND l.source_id = CAST(t.ann_id AS VARCHAR)
WHERE t.ann_id >= 0 AND l.label_id NOT IN (SELECT label_id FROM label_truth);
INSERT INTO label_truth_missing
SELECT i.image_id, t.true_class, t.x, t.y, t.w, t.h
FROM read_csv($scenes, types = {'true_class': 'VARCHAR', 'class': 'VARCHAR', 'fault': 'VARCHAR'}) t
JOIN images i ON i.dataset = $scenes_name AND i.path = t.file
WHERE t.fault = 'missing_box' AND NOT EXISTS (SELECT 1 FROM label_truth_missing m WHERE m.image_id = i.image_id
                                              AND m.x = t.x AND m.y = t.y);
"""


def _done(con: duckdb.DuckDBPyConnection, kind: str, kwargs: dict) -> bool:
    params = {k: v for k, v in kwargs.items() if f"${k}" in _DONE[kind]}
    return con.execute(_DONE[kind], params).fetchall()[0][0] > 0


def run_imports(con: duckdb.DuckDBPyConnection, data: Path, say=print) -> None:
    """Walk `IMPORTS`, then record the truth tables."""
    for kind, fmt, source, kwargs in IMPORTS:
        if _done(con, kind, kwargs):
            continue
        args = {**kwargs}
        if "root" in args:
            args["root"] = data / args["root"]
        if kind == "dataset":
            report = import_dataset(con, fmt, data / source, **args)
        elif kind == "predictions":
            report = import_predictions(con, fmt, data / source, **args)
        else:
            report = import_metadata(con, data / source, **args)
        say(f"  {report}")
    with transaction(con):
        params = {"digits": str(data / "digits_truth.csv"), "scenes": str(data / "scenes_truth.csv"),
                  "digits_name": spec.DIGITS_DATASET, "scenes_name": spec.SCENES_DATASET}
        for statement in filter(str.strip, TRUTH_SQL.split(";")):
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


def run_post_import(con: duckdb.DuckDBPyConnection, steps=POST_IMPORT_STEPS, say=print) -> dict[str, str]:
    """Run each post-import step whose module is importable; returns {label: 'done' | why skipped}."""
    outcome = {}
    for label, target, kwargs in steps:
        module_name, _, function = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            outcome[label] = f"skipped ({error})"
            continue
        say(f"  {label} …")
        getattr(module, function)(con, **kwargs)
        outcome[label] = "done"
    return outcome


def remove(db_path: Path) -> None:
    """Delete a demo database with its WAL and sidecar folder."""
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        path.unlink(missing_ok=True)
    sidecar = db_path.with_suffix(".qmdb")
    if sidecar.is_dir():
        shutil.rmtree(sidecar)


def build(db_path: str | Path = "demo.duckdb", data_dir: str | Path | None = None, *, fresh: bool = False,
          post_import: bool = True, seed: int = spec.SEED, say=print) -> Path:
    """Build the demo project at `db_path` from the (cached) demo data; returns its path.

    `data_dir` defaults to `demo_data/` beside the database. An existing database is
    completed, not rebuilt (pass `fresh=True` to start over). Another `seed` makes another
    scene set (other digits' flips and faults, other scenes, another detector run) in its own
    data folder: what the demo's figures are checked on besides the default seed.
    """
    db_path = Path(db_path)
    data = Path(data_dir) if data_dir is not None else db_path.parent / "demo_data"
    say(f"demo data: {data}")
    data, cached = generate(data, seed=seed)
    say(f"  {'reused from cache' if cached else 'generated'} (generator v{spec.VERSION}, seed {seed})")
    if fresh:
        remove(db_path)
    con = connect(db_path)
    try:
        say(f"importing into {db_path}")
        run_imports(con, data, say)
        if post_import:
            for label, result in run_post_import(con, say=say).items():
                if result != "done":
                    say(f"  {label}: {result}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return db_path
