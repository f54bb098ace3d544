"""`evaluate(con, model)`: match a model's predictions to the labels and store the result in one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from ..importers.memory import bounded
from ..transaction import registered, transaction
from ..udfs.arrow import dictionary
from .classification import classification_rows
from .detection import AP_FROM_CODED, arrow_rows, evaluate_detection
from .params import AREA_LABELS

_COLUMNS = ("model, threshold, item_type, image_id, class, prediction_id, label_id, score, iou, "
            "outcome, ignored, det_rank, label_score")


@dataclass
class EvalReport:
    """What `evaluate` did: the model, its dataset and task, counts, and the summary numbers."""

    model: str
    dataset: str
    task: str
    images: int
    labels: int
    predictions: int
    seconds: float
    stats: dict[str, float | None] = field(default_factory=dict)

    def __str__(self) -> str:
        head = (f"{self.model} on {self.dataset} ({self.task}): {self.images} images, {self.labels} labels, "
                f"{self.predictions} predictions, matched in {self.seconds:.2f} s")
        lines = [head] + [f"  {name:<10} {value:.4f}" if value is not None and value >= 0 else f"  {name:<10} -"
                          for name, value in self.stats.items()]
        return "\n".join(lines)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def _insert_matches(con: duckdb.DuckDBPyConnection, rows: pa.Table, model: str, iou_type: str) -> None:
    """Append detection `matches` rows (Arrow, without model and IoU type, added here as one-value dictionaries).

    Through a relation, not `con.register`: a view registered and dropped inside a transaction keeps
    its Arrow table alive until the transaction ends (every range's rows at once)."""
    same = np.zeros(len(rows), np.int8)
    rows = rows.append_column("model", dictionary(same, [model])).append_column("iou_type", dictionary(same, [iou_type]))
    con.from_arrow(rows).query("_qmdb_match_rows", "INSERT INTO matches BY NAME SELECT * FROM _qmdb_match_rows")


def resolve(con: duckdb.DuckDBPyConnection, model: str, dataset: str | None) -> tuple[str, str]:
    """The dataset to evaluate on and the model's task ('detection' or 'classification')."""
    known = _one(con, "SELECT task, dataset FROM models WHERE model = ?", [model])
    if not known:
        names = [m for (m,) in _one(con, "SELECT model FROM models ORDER BY 1", [])]
        raise QmdbError(f"no model named '{model}'; known models: {', '.join(names) or 'none (import predictions first)'}")
    task, model_dataset = known[0]
    if dataset is None:
        dataset = model_dataset
    if dataset is None:
        found = [d for (d,) in _one(con, "SELECT DISTINCT i.dataset FROM predictions p JOIN images i USING (image_id) "
                                         "WHERE p.model = ? ORDER BY 1", [model])]
        if len(found) != 1:
            raise QmdbError(f"model '{model}' has predictions on {len(found)} datasets ({', '.join(found)}); "
                            "pass --dataset")
        dataset = found[0]
    if not _one(con, "SELECT 1 FROM datasets WHERE name = ?", [dataset]):
        raise QmdbError(f"no dataset named '{dataset}'")
    boxed = _one(con, "SELECT count(*) FILTER (WHERE w IS NOT NULL), count(*) FROM predictions WHERE model = ?", [model])[0]
    if task not in ("detection", "classification"):
        task = "detection" if boxed[0] else "classification"
    return dataset, task


def _write(con: duckdb.DuckDBPyConnection, model: str, dataset: str, task: str, iou_type: str, images: int,
           start: float, found: tuple | None, progress: bool) -> tuple[dict, dict, float]:
    """One transaction: the model's rows of `iou_type` out, the new ones in. `found` is (matches rows,
    eval_ap rows, stats, counts) computed before, or None for boxes, matched here range by range with
    each range's rows written as it comes. Returns the stats, the counts and the seconds."""
    with transaction(con):
        for table in ("matches", "eval_ap", "evaluations", "eval_errors"):
            con.execute(f"DELETE FROM {table} WHERE model = ? AND iou_type = ?", [model, iou_type])
        if found is None:
            insert = lambda coded, classes: _insert_matches(con, arrow_rows(coded, classes), model, iou_type)  # noqa: E731
            coded_ap, classes, acc, counts = evaluate_detection(con, model, dataset, insert=insert, progress=progress)
            stats = acc.stats()
            names = {"model": model, "classes": classes, "iou_type": iou_type, "areas": list(AREA_LABELS)}
            with registered(con, _qmdb_ap_rows=coded_ap):
                con.execute("INSERT INTO eval_ap (model, class, threshold, area_range, max_dets, ap, recall, gts, dets, "
                            "iou_type) " + AP_FROM_CODED.format(table="_qmdb_ap_rows"), names)
        else:
            rows, ap, stats, counts = found
            if task == "detection":
                _insert_matches(con, rows, model, iou_type)
                with registered(con, _qmdb_ap_rows=ap):
                    con.execute("INSERT INTO eval_ap (model, class, threshold, area_range, max_dets, ap, recall, gts, "
                                "dets, iou_type) SELECT ?, *, ? FROM _qmdb_ap_rows", [model, iou_type])
            else:
                with registered(con, _qmdb_match_rows=rows):
                    con.execute(f"INSERT INTO matches ({_COLUMNS}) SELECT * FROM _qmdb_match_rows")
        seconds = time.perf_counter() - start
        con.execute("INSERT INTO evaluations (model, dataset, task, images, labels, predictions, seconds, iou_type) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [model, dataset, task, images, counts["labels"], counts["predictions"], seconds, iou_type])
    return stats, counts, seconds


def evaluate(con: duckdb.DuckDBPyConnection, model: str, *, dataset: str | None = None,
             progress: bool = True, iou_type: str = "bbox") -> EvalReport:
    """Match `model`'s predictions to `dataset`'s labels (COCO's rules for boxes, top-1 for classes).

    `iou_type` is COCOeval's: ``bbox`` (boxes, and classifiers), ``segm`` (masks,
    `qmdb.evaluation.segm`) or ``keypoints`` (OKS). Replaces the model's rows of
    that IoU type in `matches`, `eval_ap` and `evaluations` (and its `eval_errors`)
    in one transaction, so a rerun never writes a row twice and an interrupted run
    leaves the previous result. Returns the summary (COCOeval's twelve numbers,
    ten for keypoints; accuracy for classification).
    """
    if iou_type not in ("bbox", "segm", "keypoints"):
        raise QmdbError(f"iou_type must be 'bbox', 'segm' or 'keypoints', got '{iou_type}'")
    dataset, task = resolve(con, model, dataset)
    start = time.perf_counter()
    images = _one(con, "SELECT count(*) FROM images WHERE dataset = ?", [dataset])[0][0]
    found = None   # boxes: matched inside the transaction, a range of images at a time
    if iou_type != "bbox":
        from .segm import evaluate_segm

        report = evaluate_segm(con, model, dataset=dataset, iou_type=iou_type)
        found = (report.matches.drop_columns(["iou_type"]), report.ap.drop_columns(["iou_type"]), report.stats,
                 {"labels": report.labels, "predictions": report.predictions})
        task = "detection"
    elif task == "classification":
        import pyarrow.compute as pc

        rows = classification_rows(con, model, dataset).to_arrow_table()
        found = (rows, None, {}, {kind: pc.sum(pc.equal(rows["item_type"], kind[:-1])).as_py() or 0
                                  for kind in ("labels", "predictions")})
    write = lambda: _write(con, model, dataset, task, iou_type, images, start, found, progress)  # noqa: E731
    try:
        with bounded(con):   # DuckDB writes what the new rows overflow to disk
            stats, counts, seconds = write()
    except duckdb.OutOfMemoryException:   # rolled back: the bound is too small (a project in memory)
        stats, counts, seconds = write()
    if task == "classification":
        stats = dict(con.execute("SELECT 'accuracy', avg((outcome = 'TP')::DOUBLE) FROM matches "
                                 "WHERE model = ? AND item_type = 'label'", [model]).fetchall())
    return EvalReport(model, dataset, task if iou_type == "bbox" else f"{task}, {iou_type}", images,
                      counts["labels"], counts["predictions"], seconds, stats)
