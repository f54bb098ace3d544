"""How far the demo's models and label-error views can be trusted, measured against the demo's truth.

Every figure is computed from the truth tables (`label_truth`, with the true box of each
scenes label, and `label_truth_missing`), never written down:

- the detector: recall at IoU 0.5 by time of day (at any score and at score ≥ 0.5), and the
  expected calibration error of its scores (is a prediction of score p right p of the time?);
- each label-error view at its defaults: rows, how many are real injected faults (precision),
  how many of the injected faults of its kind it finds (recall), and how many of its first
  ten rows are real (top-10 precision, what a user reading the top of the list sees).

>>> [c.view for c in CHECKS][:2]
['errors_class_swaps', 'errors_bad_boxes']
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from . import classifier, detector

ECE_BINS = 10
TOP = 10


def _iou(a: str, b: str) -> str:
    """SQL for the IoU of boxes `a` and `b` (each a table alias with x, y, w, h)."""
    inter = (f"greatest(0, least({a}.x + {a}.w, {b}.x + {b}.w) - greatest({a}.x, {b}.x)) "
             f"* greatest(0, least({a}.y + {a}.h, {b}.y + {b}.h) - greatest({a}.y, {b}.y))")
    return f"(({inter}) / ({a}.w * {a}.h + {b}.w * {b}.h - ({inter})))"


# The scenes' true objects: every true box (shifted labels at their true place, the second of two
# duplicate annotations left out) and the boxes left out of the COCO file.
OBJECTS = """
objects AS (
    SELECT row_number() OVER () AS object_id, * FROM (
        SELECT l.image_id, t.true_class AS class, t.true_x AS x, t.true_y AS y, t.true_w AS w, t.true_h AS h
        FROM label_truth t JOIN labels l USING (label_id)
        WHERE t.true_w IS NOT NULL AND t.noise IS DISTINCT FROM 'duplicate_box'
        UNION ALL
        SELECT image_id, class, x, y, w, h FROM label_truth_missing)
),
pairs AS (      -- predictions of the right class on a true object at IoU 0.5 or more
    SELECT o.object_id, p.prediction_id, p.score
    FROM objects o JOIN predictions p ON p.image_id = o.image_id AND p.class = o.class AND p.model = $model
    WHERE p.w IS NOT NULL AND """ + _iou("o", "p") + """ >= 0.5
),
true_positives AS (  -- an object is found once, by its best-scoring prediction (COCO's matching)
    SELECT object_id, arg_max(prediction_id, score) AS prediction_id FROM pairs GROUP BY object_id
)"""

RECALL_SQL = "WITH " + OBJECTS + """
SELECT i.time_of_day, count(*) AS objects,
       avg((EXISTS (SELECT 1 FROM pairs q WHERE q.object_id = o.object_id))::INT) AS recall,
       avg((EXISTS (SELECT 1 FROM pairs q WHERE q.object_id = o.object_id AND q.score >= 0.5))::INT) AS recall_at_05
FROM objects o JOIN images i USING (image_id)
GROUP BY ALL ORDER BY recall DESC
"""

CALIBRATION_SQL = "WITH " + OBJECTS + """,
judged AS (
    SELECT p.score, (tp.prediction_id IS NOT NULL)::INT AS correct, least(floor(p.score * $bins), $bins - 1) AS bin
    FROM predictions p LEFT JOIN true_positives tp USING (prediction_id)
    WHERE p.model = $model AND p.w IS NOT NULL
),
bins AS (SELECT count(*) AS n, avg(score) AS mean_score, avg(correct) AS hit_rate FROM judged GROUP BY bin)
SELECT (SELECT count(*) FROM judged), (SELECT avg(correct) FROM judged),
       sum(abs(mean_score - hit_rate) * n) / sum(n) FROM bins
"""


@dataclass(frozen=True)
class Check:
    """A label-error view and how to tell a real fault among its rows.

    `real` is a SQL condition on a row `v` of the view; `found` counts the injected faults of
    the view's kind that some row finds, `faults` counts them all.
    """

    view: str
    arguments: str
    real: str
    found: str
    faults: str


def _label_fault(kind: str) -> tuple[str, str, str]:
    real = f"EXISTS (SELECT 1 FROM label_truth t WHERE t.label_id = v.label_id AND t.noise = '{kind}')"
    found = (f"SELECT count(*) FROM label_truth t WHERE t.noise = '{kind}' "
             f"AND t.label_id IN (SELECT label_id FROM view_rows)")
    return real, found, f"SELECT count(*) FROM label_truth WHERE noise = '{kind}'"


_MISSING = (
    "EXISTS (SELECT 1 FROM label_truth_missing m WHERE m.image_id = v.image_id AND " + _iou("m", "v") + " >= 0.5)",
    "SELECT count(*) FROM label_truth_missing m WHERE EXISTS (SELECT 1 FROM view_rows v "
    "WHERE v.image_id = m.image_id AND " + _iou("m", "v") + " >= 0.5)",
    "SELECT count(*) FROM label_truth_missing",
)
_FLIPPED = (
    "EXISTS (SELECT 1 FROM label_truth t JOIN labels l USING (label_id) WHERE t.label_id = v.label_id "
    "AND t.true_class <> l.class)",
    "SELECT count(*) FROM label_truth t JOIN labels l USING (label_id) JOIN images i USING (image_id) "
    "WHERE i.dataset = 'digits' AND t.true_class <> l.class AND t.label_id IN (SELECT label_id FROM view_rows)",
    "SELECT count(*) FROM label_truth t JOIN labels l USING (label_id) JOIN images i USING (image_id) "
    "WHERE i.dataset = 'digits' AND t.true_class <> l.class",
)

_DETECTOR = f"model_name := '{detector.MODEL}', hide_reviewed := false"
CHECKS: tuple[Check, ...] = (
    Check("errors_class_swaps", _DETECTOR, *_label_fault("wrong_class")),
    Check("errors_bad_boxes", _DETECTOR, *_label_fault("shifted_box")),
    Check("errors_duplicate_boxes", "hide_reviewed := false", *_label_fault("duplicate_box")),
    Check("errors_missing_labels", _DETECTOR, *_MISSING),
    Check("errors_classification", f"model_name := '{classifier.MODEL}', hide_reviewed := false", *_FLIPPED),
)


def view_quality(con: duckdb.DuckDBPyConnection, check: Check) -> dict:
    """One view at its defaults against the truth: rows, real, precision, found, faults, recall, top-10 precision."""
    rows = con.sql(f"SELECT * FROM {check.view}({check.arguments})").to_arrow_table()
    rows = rows.append_column("position", pa.array(range(rows.num_rows), pa.int64()))
    cursor = con.cursor()
    try:
        cursor.register("view_rows", rows)
        real, top, top_real = cursor.execute(
            f"SELECT coalesce(sum(r::INT), 0), count(*) FILTER (WHERE position < {TOP}), "
            f"coalesce(sum(r::INT) FILTER (WHERE position < {TOP}), 0) "
            f"FROM (SELECT v.position, {check.real} AS r FROM view_rows v)").fetchall()[0]
        found = cursor.execute(check.found).fetchall()[0][0]
        faults = cursor.execute(check.faults).fetchall()[0][0]
    finally:
        cursor.close()
    n = rows.num_rows
    return {"view": check.view, "rows": n, "real": int(real), "precision": real / n if n else None,
            "found": int(found), "faults": int(faults), "recall": found / faults if faults else None,
            "top10_precision": top_real / top if top else None}


def views_quality(con: duckdb.DuckDBPyConnection, checks: tuple[Check, ...] = CHECKS) -> list[dict]:
    """`view_quality` of every check whose view is installed."""
    return [view_quality(con, c) for c in checks if _installed(con, c.view)]


def detector_recall(con: duckdb.DuckDBPyConnection, model: str = detector.MODEL) -> list[dict]:
    """Recall at IoU 0.5 of `model` per time of day: at any score and at score ≥ 0.5."""
    cursor = con.execute(RECALL_SQL, {"model": model})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def detector_calibration(con: duckdb.DuckDBPyConnection, model: str = detector.MODEL) -> dict:
    """Predictions, the share right (right class at IoU 0.5, COCO's one match per object) and the
    expected calibration error of their scores (ECE_BINS equal-width bins)."""
    n, precision, ece = con.execute(CALIBRATION_SQL, {"model": model, "bins": ECE_BINS}).fetchall()[0]
    return {"predictions": n, "precision": precision, "ece": ece}


def _installed(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ? "
                       "UNION ALL SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name, name]).fetchall()[0][0] > 0


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def show(con: duckdb.DuckDBPyConnection, say=print) -> None:
    """Print the detector's recall and calibration, then every checked view's quality."""
    say("\nHow far to trust it: measured against the demo's truth (label_truth, label_truth_missing)")
    say(f"\n-- detector '{detector.MODEL}': recall at IoU 0.5 by time of day")
    say(f"{'time_of_day':<12} {'objects':>8} {'recall':>7} {'recall@score≥0.5':>17}")
    for row in detector_recall(con):
        say(f"{row['time_of_day']:<12} {row['objects']:>8} {row['recall']:>7.3f} {row['recall_at_05']:>17.3f}")
    calibration = detector_calibration(con)
    say(f"predictions {calibration['predictions']}, right (IoU ≥ 0.5, right class) {_fmt(calibration['precision'])}, "
        f"expected calibration error {calibration['ece']:.3f} ({ECE_BINS} bins)")
    say("\n-- label-error views at their defaults (hide_reviewed := false)")
    say(f"{'view':<24} {'rows':>6} {'real':>5} {'precision':>9} {'found':>6} {'recall':>6} {'top-10 precision':>16}")
    for q in views_quality(con):
        say(f"{q['view']:<24} {q['rows']:>6} {q['real']:>5} {_fmt(q['precision']):>9} "
            f"{q['found']:>3}/{q['faults']:<2} {_fmt(q['recall']):>6} {_fmt(q['top10_precision']):>16}")
