-- description: CleanVision's low-information issue, one row per image with metrics: score = normalizing_factor × the entropy of the image's histogram (grey-level entropy, plus log2(3) for a colour image as PIL counts its three channels), capped at 1, lower is worse; an issue below threshold.
-- param: threshold DOUBLE = 0.3 -- CleanVision's default: low information when the score is below it
-- param: normalizing_factor DOUBLE = 0.1 -- CleanVision's default: score per bit of entropy
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH scored AS (
    SELECT i.image_id, i.dataset,
           m.entropy + CASE WHEN coalesce(m.is_grayscale, false) THEN 0 ELSE log2(3) END AS bits
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.entropy IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'low_information' AS issue_type,
       least(1.0, normalizing_factor * bits) AS score, least(1.0, normalizing_factor * bits) < threshold AS is_issue,
       printf('histogram entropy %.2f bits (low below %.2f)', bits, threshold / normalizing_factor) AS reason
FROM scored
ORDER BY score, item_id
