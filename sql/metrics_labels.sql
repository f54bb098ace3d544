-- description: Every label with its label metrics, its image's dataset, path and split, and its image's metrics prefixed image_ (image_brightness, …).
-- needs: tables
SELECT
    l.*,
    i.dataset,
    i.path,
    i.split,
    m.* EXCLUDE (label_id, versions),
    COLUMNS(im.* EXCLUDE (image_id, versions)) AS 'image_\0'
FROM labels l
JOIN images i USING (image_id)
LEFT JOIN label_metrics m USING (label_id)
LEFT JOIN image_metrics im USING (image_id)
