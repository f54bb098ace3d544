-- description: CleanVision's grayscale issue, one row per image with metrics: score 0 for an image whose colour channels carry no colour (the is_grayscale metric), 1 otherwise; an issue at 0.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
SELECT 'image' AS item_type, i.image_id AS item_id, i.dataset, 'grayscale' AS issue_type,
       CASE WHEN m.is_grayscale THEN 0.0 ELSE 1.0 END::DOUBLE AS score, m.is_grayscale AS is_issue,
       CASE WHEN m.is_grayscale THEN 'no pixel carries colour (at most 1 % spread over 8 grey levels)' ELSE 'colour' END AS reason
FROM image_metrics m JOIN images i USING (image_id)
WHERE m.is_grayscale IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
ORDER BY score, item_id
