-- description: What to drop, exact duplicates: images whose bytes (sha256) equal an earlier image's; keep the one named in kept_image_id, drop the rest.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL looks across every dataset
-- needs: tables
SELECT
    i.image_id,
    first_value(i.image_id) OVER (PARTITION BY i.sha256 ORDER BY i.image_id) AS kept_image_id,
    i.dataset,
    i.path,
    i.sha256
FROM images i
WHERE i.sha256 IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
QUALIFY i.image_id <> kept_image_id
ORDER BY kept_image_id, i.image_id
