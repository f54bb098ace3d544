-- description: The confident joint of a classifier: estimated counts of labels given class i whose true class is j (calibrated to the given-label counts, rounded preserving row totals), the noise matrix behind errors_classification.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- needs: tables
WITH long AS (         -- one row per (model, label, class): p(class | image)
    SELECT * FROM errors_label_probs(model_name := model_name)
),
given_p AS (           -- labels whose class the model knows, with p(given class)
    SELECT model, label_id, given, p AS p_given FROM long WHERE k = given
),
label_counts AS (
    SELECT model, given AS i, count(*) AS n FROM given_p GROUP BY ALL
),
thresholds AS (        -- per class: mean self-confidence of the labels given that class (2 when none)
    SELECT l.model, l.k, greatest(coalesce(avg(l.p) FILTER (WHERE l.k = l.given), 2.0), 2e-6) AS t
    FROM long l SEMI JOIN given_p g USING (model, label_id)
    GROUP BY l.model, l.k
),
guesses AS (           -- the confidently-true class: the one above its threshold, argmax when several
    SELECT l.model, l.label_id, l.given,
           count(*) FILTER (WHERE l.p >= t.t - 1e-6) AS n_confident,
           CASE WHEN count(*) FILTER (WHERE l.p >= t.t - 1e-6) > 1 THEN arg_max(l.k, l.p)
                ELSE arg_max(l.k, l.p) FILTER (WHERE l.p >= t.t - 1e-6) END AS guess
    FROM long l JOIN thresholds t USING (model, k) SEMI JOIN given_p g USING (model, label_id)
    GROUP BY l.model, l.label_id, l.given
),
pairs AS (
    SELECT a.model, a.k AS i, b.k AS j
    FROM (SELECT DISTINCT model, k FROM thresholds) a JOIN (SELECT DISTINCT model, k FROM thresholds) b USING (model)
),
joint AS (             -- confident joint C[given i, true j], diagonal at least 1
    SELECT p.model, p.i, p.j,
           CASE WHEN p.i = p.j THEN greatest(coalesce(c.c, 0), 1) ELSE coalesce(c.c, 0) END AS c
    FROM pairs p
    LEFT JOIN (SELECT model, given AS i, guess AS j, count(*) AS c FROM guesses WHERE n_confident > 0 GROUP BY ALL) c
        USING (model, i, j)
),
calibrated_rows AS (   -- calibrate rows to the given-label counts
    SELECT j.model, j.i, j.j, j.c / sum(j.c) OVER (PARTITION BY j.model, j.i) * coalesce(lc.n, 0) AS f
    FROM joint j LEFT JOIN label_counts lc USING (model, i)
),
calibrated AS (        -- then the whole matrix to the number of labels
    SELECT model, i, j, f / sum(f) OVER (PARTITION BY model) * (SELECT sum(n) FROM label_counts c WHERE c.model = r.model) AS f
    FROM calibrated_rows r
),
rounded AS (           -- round each row to integers preserving its total (cleanlab's round_preserving_sum)
    SELECT *, round_even(f, 0) AS r, f - round_even(f, 0) AS residual,  -- ranked to 1e-9: parallel sums differ in the last bits
           round_even(sum(f) OVER (PARTITION BY model, i), 0) - sum(round_even(f, 0)) OVER (PARTITION BY model, i) AS diff
    FROM calibrated
),
counts AS (
    SELECT model, i, j,
           r + CASE WHEN diff > 0 AND row_number() OVER (PARTITION BY model, i ORDER BY round(residual, 9) DESC, j DESC) <= diff THEN 1
                    WHEN diff < 0 AND row_number() OVER (PARTITION BY model, i ORDER BY round(residual, 9) ASC, j ASC) <= -diff THEN -1
                    ELSE 0 END AS c
    FROM rounded
)
SELECT model, i AS given_class, j AS true_class, CAST(c AS BIGINT) AS labels
FROM counts
ORDER BY model, given_class, true_class
