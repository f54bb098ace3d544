-- description: Calibration of a classifier: its top-1 predictions cut into n_bins equal-width confidence bins (sklearn's calibration_curve with strategy='uniform': a confidence on an edge falls in the lower bin), per model and bin the count, mean confidence, accuracy with a Wilson 95% interval and their gap, and the model's expected calibration error (ECE: the count-weighted mean of |accuracy - confidence|), the data of a reliability diagram.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated classifier
-- param: n_bins INTEGER = 10 -- equal-width bins over [0, 1]
-- needs: tables
WITH top AS (
    SELECT m.model, m.score AS confidence, CAST(m.outcome = 'TP' AS INTEGER) AS correct
    FROM matches m JOIN evaluations e ON e.model = m.model AND e.task = 'classification'
    WHERE (model_name IS NULL OR m.model = model_name)
      AND m.item_type = 'prediction' AND NOT m.ignored
),
edges AS (
    SELECT list_transform(range(1, n_bins), lambda i: i * (1.0 / n_bins)) AS e
),
binned AS (
    SELECT t.*, CAST(len(list_filter(edges.e, lambda x: x < t.confidence)) AS INTEGER) AS bin
    FROM top t CROSS JOIN edges
),
bins AS (
    SELECT model, bin, count(*) AS n, avg(confidence) AS confidence, sum(correct) AS correct,
           avg(CAST(correct AS DOUBLE)) AS accuracy
    FROM binned GROUP BY model, bin
)
SELECT
    model,
    bin,
    bin * (1.0 / n_bins) AS lower_edge,
    CASE WHEN bin = n_bins - 1 THEN 1.0 ELSE (bin + 1) * (1.0 / n_bins) END AS upper_edge,
    n,
    confidence,
    accuracy,
    wilson_low(correct, n) AS accuracy_low,
    wilson_high(correct, n) AS accuracy_high,
    accuracy - confidence AS gap,
    sum(n * abs(accuracy - confidence)) OVER (PARTITION BY model) / sum(n) OVER (PARTITION BY model) AS ece
FROM bins
ORDER BY model, bin
