-- description: Every image with the file it is read from (`image_location`, the path rule) and its materialized metrics (NULL until `qmdb metrics` has run; width and height as decoded when known).
-- needs: tables
SELECT
    i.* REPLACE (coalesce(m.width, i.width) AS width, coalesce(m.height, i.height) AS height),
    image_location(d.root, i.path) AS file,
    m.* EXCLUDE (image_id, versions, width, height)
FROM images i
JOIN datasets d ON d.name = i.dataset
LEFT JOIN image_metrics m USING (image_id)
