-- description: Every image with its absolute file path and its materialized metrics (NULL until `qmdb metrics` has run; width and height as decoded when known).
-- needs: tables
SELECT
    i.* REPLACE (coalesce(m.width, i.width) AS width, coalesce(m.height, i.height) AS height),
    CASE WHEN i.path[1] = '/' OR d.root = '' THEN i.path ELSE rtrim(d.root, '/') || '/' || i.path END AS file,
    m.* EXCLUDE (image_id, versions, width, height)
FROM images i
JOIN datasets d ON d.name = i.dataset
LEFT JOIN image_metrics m USING (image_id)
