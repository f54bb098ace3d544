"""What `qmdb demo` prints after a build: what is in the database, a few example queries
with their results, and the commands to try next."""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import classifier, detector, spec

OVERVIEW: tuple[tuple[str, str], ...] = (
    ("Datasets (the dataset_summary view)", "SELECT * FROM dataset_summary"),
    ("Models", "SELECT m.model, m.task, m.dataset, count(p.prediction_id) AS predictions "
               "FROM models m LEFT JOIN predictions p USING (model) GROUP BY ALL ORDER BY 1"),
    ("Files that could not be read (the errors table)", "SELECT dataset, image_id, regexp_extract(file, '[^/]+$') AS file, "
                                                         "stage, left(message, 60) AS message FROM errors ORDER BY error_id"),
)

EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Labels per class", "SELECT class, count(*) AS labels FROM labels GROUP BY 1 ORDER BY 1"),
    ("Digit labels the classifier most confidently disagrees with, and whether they really were flipped", f"""
SELECT i.path, l.class AS given, p.class AS predicted, round(p.score, 3) AS confidence,
       t.true_class, t.noise
FROM labels l
JOIN images i USING (image_id)
JOIN predictions p ON p.image_id = l.image_id AND p.model = '{classifier.MODEL}'
LEFT JOIN label_truth t USING (label_id)
WHERE i.dataset = '{spec.DIGITS_DATASET}' AND p.class <> l.class
ORDER BY p.score DESC LIMIT 8"""),
    ("Flipped digit labels per annotator (from label_truth)", f"""
SELECT l.annotator, count(*) AS labels, count(t.noise) AS flipped,
       round(count(t.noise) / count(*), 3) AS flip_rate
FROM labels l JOIN images i USING (image_id) JOIN label_truth t USING (label_id)
WHERE i.dataset = '{spec.DIGITS_DATASET}'
GROUP BY 1 ORDER BY flip_rate DESC"""),
    ("Detector recall (IoU >= 0.5, score >= 0.5, same class) by time of day, in plain SQL", f"""
WITH found AS (
  SELECT l.label_id, i.time_of_day,
         bool_or(p.prediction_id IS NOT NULL
                 AND (least(l.x + l.w, p.x + p.w) - greatest(l.x, p.x)) > 0
                 AND (least(l.y + l.h, p.y + p.h) - greatest(l.y, p.y)) > 0
                 AND (least(l.x + l.w, p.x + p.w) - greatest(l.x, p.x)) * (least(l.y + l.h, p.y + p.h) - greatest(l.y, p.y))
                     / (l.w * l.h + p.w * p.h - (least(l.x + l.w, p.x + p.w) - greatest(l.x, p.x))
                        * (least(l.y + l.h, p.y + p.h) - greatest(l.y, p.y))) >= 0.5) AS hit
  FROM labels l JOIN images i USING (image_id)
  LEFT JOIN predictions p ON p.image_id = l.image_id AND p.model = '{detector.MODEL}'
                         AND p.class = l.class AND p.score >= 0.5
  WHERE i.dataset = '{spec.SCENES_DATASET}'
  GROUP BY ALL)
SELECT time_of_day, count(*) AS labels, round(avg(hit::INT), 3) AS recall
FROM found GROUP BY 1 ORDER BY recall DESC"""),
)

NEXT = (
    'qmdb sql {db} "SELECT class, count(*) FROM labels GROUP BY 1"',
    "qmdb tables {db}",
    "qmdb views {db}",
    "qmdb views {db} run class_counts -p dataset_name=digits",
    "python -c \"import duckdb; print(duckdb.connect('{db}').sql('SELECT * FROM dataset_summary'))\"",
)


def show(con: duckdb.DuckDBPyConnection, db_path: Path, elapsed: float) -> None:
    """Print the overview, the example queries with their results, and what to run next."""
    for title, sql in OVERVIEW:
        print(f"\n{title}")
        con.sql(sql).show(max_width=160)
    print("\nExample queries")
    for title, sql in EXAMPLES:
        print(f"\n-- {title}\n{sql.strip()}")
        con.sql(sql).show(max_width=160)
    print("\nTry next:")
    for command in NEXT:
        print("  " + command.format(db=db_path))
    print(f"\nBuilt {db_path} in {elapsed:.1f} s.")
