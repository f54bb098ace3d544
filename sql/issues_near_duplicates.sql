-- description: CleanVision's near-duplicates issue, one row per image with a perceptual hash: images of one dataset whose phash is within max_distance bits of another image's of other bytes (exact copies are exact_duplicates); score = 1 / (1 + the number of such images), lower is worse.
-- param: max_distance INTEGER = 0 -- Hamming distance between 64-bit phashes (CleanVision: 0, equal hashes)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH pairs AS (
    SELECT image_a AS image_id, image_b AS other_id, distance
    FROM health_phash_pairs(max_distance := max_distance, dataset_name := dataset_name) WHERE NOT same_bytes
    UNION ALL
    SELECT image_b, image_a, distance
    FROM health_phash_pairs(max_distance := max_distance, dataset_name := dataset_name) WHERE NOT same_bytes
),
counted AS (
    SELECT image_id, count(*) AS near, arg_min(other_id, distance) AS closest, min(distance) AS distance
    FROM pairs GROUP BY image_id
)
SELECT 'image' AS item_type, i.image_id AS item_id, i.dataset, 'near_duplicates' AS issue_type,
       1.0 / (1 + coalesce(c.near, 0)) AS score, c.near IS NOT NULL AS is_issue,
       CASE WHEN c.near IS NULL THEN printf('no other image within %d bits', max_distance)
            ELSE printf('%d image(s) within %d bits (closest: image %d, %d bits)', c.near, max_distance, c.closest, c.distance) END AS reason
FROM image_metrics m JOIN images i USING (image_id) LEFT JOIN counted c USING (image_id)
WHERE m.phash IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
ORDER BY score, item_id
