-- description: Underperforming groups (cleanlab's underperforming_group): images grouped by a column of images (split, or a metadata column such as camera), a classifier's mean self-confidence (its out-of-fold probability of the given class) and accuracy per group; score = the group's mean self-confidence / the mean over every group of at least min_group_size images (1 for a group at or above it), lower is worse; an issue when score is below threshold (cleanlab's rule) or when its accuracy is below the rest's with a two-proportion z-test p-value below alpha.
-- param: group_column VARCHAR = 'split' -- a column of images to group by
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to read; NULL reads each on its own
-- param: min_group_size INTEGER = 5 -- smaller groups are left out (cleanlab's min_cluster_samples)
-- param: threshold DOUBLE = 0.1 -- cleanlab's default: an issue when the score is below it
-- param: alpha DOUBLE = 0.001 -- significance for accuracy below the rest's
-- needs: tables
WITH grouped AS (
    SELECT image_id, CAST(g AS VARCHAR) AS grp
    FROM (SELECT image_id, COLUMNS(lambda c: c = group_column) AS g FROM images)
),
scored AS (
    SELECT p.model, g.grp, l.image_id, coalesce(p.probs[l.class], 0.0) AS self_confidence,
           CAST(p.class = l.class AS DOUBLE) AS correct
    FROM labels l JOIN predictions p ON p.image_id = l.image_id JOIN grouped g ON g.image_id = l.image_id
    WHERE l.w IS NULL AND p.probs IS NOT NULL AND (model_name IS NULL OR p.model = model_name)
),
groups AS (
    SELECT model, grp, count(*) AS images, avg(self_confidence) AS quality, sum(correct) AS correct
    FROM scored GROUP BY ALL HAVING count(*) >= min_group_size
),
overall AS (
    SELECT model, sum(quality * images) / sum(images) AS quality, sum(correct) AS correct, sum(images) AS images
    FROM groups GROUP BY model
),
tested AS (
    SELECT g.model, g.grp, g.images, g.quality, g.correct / g.images AS accuracy,
           (o.correct - g.correct) / nullif(o.images - g.images, 0) AS rest_accuracy,
           least(1.0, g.quality / nullif(o.quality, 0)) AS score,
           o.correct / o.images AS pooled, o.images - g.images AS rest_images
    FROM groups g JOIN overall o USING (model)
),
z AS (
    SELECT *, (accuracy - rest_accuracy) / nullif(sqrt(pooled * (1 - pooled) * (1.0 / images + 1.0 / rest_images)), 0) AS z
    FROM tested
),
-- one-sided p-value Φ(z) = erfc(−z/√2)/2, erfc by Abramowitz and Stegun 7.1.26 (error below 1.5e-7)
tails AS (
    SELECT *, 1.0 / (1.0 + 0.3275911 * abs(z) / sqrt(2)) AS t FROM z
),
p AS (
    SELECT *, t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
              * exp(-z * z / 2) AS erfc_abs
    FROM tails
)
SELECT model, group_column, grp AS group_value, images, quality AS mean_self_confidence, accuracy, rest_accuracy,
       score, coalesce(CASE WHEN z < 0 THEN erfc_abs / 2 ELSE 1 - erfc_abs / 2 END, 1.0) AS p_value,
       score < threshold OR coalesce(z < 0 AND erfc_abs / 2 < alpha, false) AS is_issue,
       printf('%s = %s: accuracy %.3f against %.3f elsewhere (%d images)', group_column, grp, accuracy,
              coalesce(rest_accuracy, accuracy), images) AS reason
FROM p
ORDER BY model, score, p_value, group_value
