-- description: Drift between two sets of images, metric by metric: for every numeric column of image_metrics, each side's count, mean and median, the two-sample Kolmogorov–Smirnov statistic with its asymptotic p-value, and the population stability index (PSI) over n_bins quantile bins of side A with its p-value (PSI × n_a·n_b/(n_a + n_b) is asymptotically χ² with n_bins − 1 degrees of freedom; p-value by the Wilson–Hilferty approximation); most different (largest KS) first.
-- param: ids_a BIGINT[] = NULL -- the image ids of side A, e.g. (SELECT list(image_id) FROM images WHERE split = 'train')
-- param: ids_b BIGINT[] = NULL -- the image ids of side B
-- param: n_bins INTEGER = 10 -- quantile bins of side A for the PSI
-- needs: tables
WITH sides AS (
    SELECT unnest(ids_a) AS image_id, 'a' AS side UNION ALL SELECT unnest(ids_b), 'b'
),
long AS (
    UNPIVOT (SELECT image_id, COLUMNS(* EXCLUDE (image_id, versions, phash))::VARCHAR FROM image_metrics
             WHERE list_contains(ids_a, image_id) OR list_contains(ids_b, image_id))
    ON COLUMNS(* EXCLUDE (image_id)) INTO NAME metric VALUE value
),
valued AS (
    SELECT l.metric, s.side, try_cast(l.value AS DOUBLE) AS value
    FROM long l JOIN sides s USING (image_id)
),
numeric AS (SELECT * FROM valued WHERE value IS NOT NULL AND isfinite(value)),
sizes AS (
    SELECT metric, count_if(side = 'a') AS n_a, count_if(side = 'b') AS n_b,
           avg(value) FILTER (WHERE side = 'a') AS mean_a, avg(value) FILTER (WHERE side = 'b') AS mean_b,
           median(value) FILTER (WHERE side = 'a') AS median_a, median(value) FILTER (WHERE side = 'b') AS median_b
    FROM numeric GROUP BY metric HAVING count_if(side = 'a') > 0 AND count_if(side = 'b') > 0
),
-- the ECDFs at each distinct value: D = max |F_a − F_b|
steps AS (
    SELECT metric, value, count_if(side = 'a') AS da, count_if(side = 'b') AS db FROM numeric GROUP BY ALL
),
ecdf AS (
    SELECT s.metric, abs(sum(da) OVER w / z.n_a - sum(db) OVER w / z.n_b) AS gap
    FROM steps s JOIN sizes z USING (metric)
    WINDOW w AS (PARTITION BY s.metric ORDER BY s.value ROWS UNBOUNDED PRECEDING)
),
ks AS (
    SELECT e.metric, max(gap) AS ks, any_value(z.n_a) AS n_a, any_value(z.n_b) AS n_b
    FROM ecdf e JOIN sizes z USING (metric) GROUP BY e.metric
),
-- Kolmogorov's Q(λ) = 2 Σ (−1)^(k−1) exp(−2 k² λ²), λ = (√n_e + 0.12 + 0.11/√n_e)·D (Numerical Recipes)
ks_p AS (
    SELECT metric, ks, least(1.0, greatest(0.0, 2 * sum(CASE WHEN k % 2 = 1 THEN 1 ELSE -1 END * exp(-2 * k * k * lam * lam)))) AS ks_p_value
    FROM (SELECT metric, ks, (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * ks AS lam
          FROM (SELECT *, n_a * n_b / (n_a + n_b) AS ne FROM ks)), range(1, 101) r(k)
    GROUP BY metric, ks, lam
),
edges AS (
    SELECT metric, quantile_cont(value, [k / n_bins FOR k IN range(1, n_bins)]) AS edges
    FROM numeric WHERE side = 'a' GROUP BY metric
),
binned AS (
    SELECT n.metric, n.side, len(list_filter(e.edges, lambda x: x < n.value)) AS bin
    FROM numeric n JOIN edges e USING (metric)
),
shares AS (
    SELECT b.metric, b.bin, greatest(count_if(side = 'a') / any_value(z.n_a), 1e-4) AS pa,
           greatest(count_if(side = 'b') / any_value(z.n_b), 1e-4) AS pb
    FROM binned b JOIN sizes z USING (metric) GROUP BY b.metric, b.bin
),
psi AS (
    SELECT s.metric, sum((pb - pa) * ln(pb / pa)) AS psi, count(*) - 1 AS df
    FROM shares s GROUP BY s.metric
),
-- χ² survival by Wilson–Hilferty: ((x/df)^(1/3) − (1 − 2/(9df))) / √(2/(9df)) is about standard normal
psi_z AS (
    SELECT p.metric, p.psi, p.df,
           (pow(greatest(p.psi * z.n_a * z.n_b / (z.n_a + z.n_b), 0) / p.df, 1.0 / 3) - (1 - 2.0 / (9 * p.df)))
           / sqrt(2.0 / (9 * p.df)) AS w
    FROM psi p JOIN sizes z USING (metric) WHERE p.df > 0
),
psi_t AS (
    SELECT metric, psi, w, 1.0 / (1.0 + 0.3275911 * abs(w) / sqrt(2)) AS t FROM psi_z
),
psi_p AS (   -- erfc(|w|/√2) by Abramowitz and Stegun 7.1.26
    SELECT metric, psi, w, t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
           + t * 1.061405429)))) * exp(-w * w / 2) AS tail
    FROM psi_t
)
SELECT z.metric, z.n_a, z.n_b, z.mean_a, z.mean_b, z.median_a, z.median_b, k.ks, k.ks_p_value, p.psi,
       CASE WHEN p.w >= 0 THEN p.tail / 2 ELSE 1 - p.tail / 2 END AS psi_p_value
FROM sizes z JOIN ks_p k USING (metric) LEFT JOIN psi_p p USING (metric)
ORDER BY k.ks DESC, z.metric
