-- description: CleanVision's blurry issue, one row per image with metrics: score = 1 − exp(−normalizing_factor·√sharpness), √sharpness the standard deviation of the Laplacian (0..1, lower is worse); an issue below threshold.
-- param: threshold DOUBLE = 0.29 -- CleanVision's default: blurry when the score is below it
-- param: normalizing_factor DOUBLE = 0.1 -- scale of the Laplacian's standard deviation (CleanVision: 0.01 on its edge filter of a 64-pixel thumbnail)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH scored AS (
    SELECT i.image_id, i.dataset, m.sharpness, 1.0 - exp(-normalizing_factor * sqrt(greatest(m.sharpness, 0))) AS score
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.sharpness IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'blurry' AS issue_type, score, score < threshold AS is_issue,
       printf('Laplacian std %.1f grey levels (blurry below %.1f)', sqrt(greatest(sharpness, 0)),
              -ln(1 - threshold) / normalizing_factor) AS reason
FROM scored
ORDER BY score, item_id
