-- description: CleanVision's exact-duplicates issue, one row per image of known content hash: score = 1 / the number of images of its dataset with the same sha256 (lower is worse); every member of a set of two or more is an issue.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset (sets never span datasets: see leaks_duplicates)
-- needs: tables
WITH sets AS (
    SELECT image_id, dataset, count(*) OVER (PARTITION BY dataset, sha256) AS copies,
           min(image_id) OVER (PARTITION BY dataset, sha256) AS first_id
    FROM images
    WHERE sha256 IS NOT NULL AND (dataset_name IS NULL OR dataset = dataset_name)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'exact_duplicates' AS issue_type,
       1.0 / copies AS score, copies > 1 AS is_issue,
       CASE WHEN copies > 1 THEN printf('one of %d files with the same bytes (first: image %d)', copies, first_id)
            ELSE 'unique bytes' END AS reason
FROM sets
ORDER BY score, item_id
