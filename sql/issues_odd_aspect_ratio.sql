-- description: CleanVision's odd-aspect-ratio issue, one row per image of known size: score = min(width/height, height/width) (0..1, lower is worse); an issue below threshold.
-- param: threshold DOUBLE = 0.35 -- CleanVision's default: odd when the short side is below this share of the long side
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'odd_aspect_ratio' AS issue_type,
       least(width, height) / greatest(width, height) AS score,
       least(width, height) / greatest(width, height) < threshold AS is_issue,
       printf('%d x %d px (ratio %.2f, odd below %.2f)', width, height, least(width, height) / greatest(width, height), threshold) AS reason
FROM images
WHERE width > 0 AND height > 0 AND (dataset_name IS NULL OR dataset = dataset_name)
ORDER BY score, item_id
