-- description: CleanVision's light issue, one row per image with metrics: score = 1 − the 5th percentile of the luminance estimated as brightness − tail_sigmas·contrast (0..1, lower is worse); an issue below threshold.
-- param: threshold DOUBLE = 0.05 -- CleanVision's default: washed out when the score is below it (the dark end above 95 % of full scale)
-- param: tail_sigmas DOUBLE = 1.645 -- how many standard deviations below the mean the dark end is read (1.645: a normal's 5th percentile)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH scored AS (
    SELECT i.image_id, i.dataset, 1.0 - least(1.0, greatest(0.0, m.brightness - tail_sigmas * m.contrast)) AS score
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.brightness IS NOT NULL AND m.contrast IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'light' AS issue_type, score, score < threshold AS is_issue,
       printf('dark end %.2f of full scale (light above %.2f)', 1 - score, 1 - threshold) AS reason
FROM scored
ORDER BY score, item_id
