"""What `qmdb demo` prints after a build: what is in the database, a few example queries
with their results, how far its models and label-error views can be trusted (`trust`), and the
commands to try next."""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import classifier, detector, trust

OVERVIEW: tuple[tuple[str, str], ...] = (
    ("Datasets (the dataset_summary view)", "SELECT * FROM dataset_summary"),
    ("Models", "SELECT m.model, m.task, m.dataset, count(p.prediction_id) AS predictions "
               "FROM models m LEFT JOIN predictions p USING (model) GROUP BY ALL ORDER BY 1"),
    ("Files that could not be read (the errors table)", "SELECT dataset, image_id, regexp_extract(file, '[^/]+$') AS file, "
                                                         "stage, left(message, 60) AS message FROM errors ORDER BY error_id"),
)

EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Labels per class", "SELECT class, count(*) AS labels FROM labels GROUP BY 1 ORDER BY 1"),
    ("Label errors: confident learning over the classifier's out-of-fold probabilities, checked against the truth", f"""
SELECT e.path, e.class AS given, e.suggested_class, round(e.self_confidence, 4) AS self_confidence,
       t.true_class, t.noise
FROM errors_classification(model_name := '{classifier.MODEL}') e
LEFT JOIN label_truth t USING (label_id)
ORDER BY e.rank LIMIT 8"""),
    ("Label errors by annotator: how often a label's nearest neighbours (built-in embedder) disagree with it", """
SELECT annotator, labels, suspect_labels, round(suspect_share, 3) AS suspect_share
FROM errors_by_annotator(k_neighbors := 10) ORDER BY suspect_share DESC"""),
    ("Evaluation: the detector, COCO's numbers (identical to pycocotools)", f"""
SELECT model, round(ap, 3) AS ap, round(ap50, 3) AS ap50, round(ap_small, 3) AS ap_small,
       round(ap_large, 3) AS ap_large, round(ar100, 3) AS ar100
FROM eval_summary WHERE model = '{detector.MODEL}'"""),
    ("Evaluation by slice: detector recall at IoU 0.5 by time of day (any metadata column is a slice)", f"""
SELECT i.time_of_day, count(*) AS labels, round(avg((m.outcome = 'TP')::INT), 3) AS recall
FROM matches m JOIN images i USING (image_id)
WHERE m.model = '{detector.MODEL}' AND m.item_type = 'label' AND m.threshold = 0.5 AND m.iou_type = 'bbox' AND NOT m.ignored
GROUP BY 1 ORDER BY recall DESC"""),
    ("Selection: the digits the classifier is least sure of, to label or review next", f"""
SELECT path, round(1 - least_confidence, 3) AS top_probability, round(entropy, 3) AS entropy_bits
FROM select_uncertain(model_name := '{classifier.MODEL}', limit_rows := 5)"""),
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
        try:
            con.sql(sql).show(max_width=160)
        except duckdb.CatalogException as error:
            print(f"(not available yet: {str(error).splitlines()[0]}; run `qmdb demo` without --no-post)")
    trust.show(con)
    print("\nTry next:")
    for command in NEXT:
        print("  " + command.format(db=db_path))
    print(f"\nBuilt {db_path} in {elapsed:.1f} s.")
