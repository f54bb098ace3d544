-- description: CleanVision's dark issue, one row per image with metrics: score = the 99th percentile of the luminance estimated as brightness + tail_sigmas·contrast (0..1, lower is worse); an issue below threshold.
-- param: threshold DOUBLE = 0.32 -- CleanVision's default: dark when the score is below it
-- param: tail_sigmas DOUBLE = 2.33 -- how many standard deviations above the mean the bright end is read (2.33: a normal's 99th percentile)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH scored AS (
    SELECT i.image_id, i.dataset, least(1.0, greatest(0.0, m.brightness + tail_sigmas * m.contrast)) AS score
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.brightness IS NOT NULL AND m.contrast IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'dark' AS issue_type, score, score < threshold AS is_issue,
       printf('bright end %.2f of full scale (dark below %.2f)', score, threshold) AS reason
FROM scored
ORDER BY score, item_id
