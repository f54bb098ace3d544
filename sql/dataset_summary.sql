-- description: One row per dataset: images (readable and broken), labels, classes, annotators, error rows. An image is broken when the import found it missing or unreadable, or when its pixels failed to decode later (a `metrics` error that is not a metric's own failure, or an `embed` "unreadable image" error): a file whose header reads but whose pixels do not counts too.
-- needs: tables
SELECT
    d.name AS dataset,
    d.format,
    d.task,
    (SELECT count(*) FROM images i WHERE i.dataset = d.name) AS images,
    (SELECT count(*) FROM images i WHERE i.dataset = d.name AND (i.status <> 'ok' OR EXISTS (
        SELECT 1 FROM errors e WHERE e.image_id = i.image_id AND (
            (e.stage = 'metrics' AND e.message NOT LIKE 'metric %')
            OR (e.stage = 'embed' AND e.message LIKE '%: unreadable image: %'))))) AS broken_images,
    (SELECT count(*) FROM labels l JOIN images i USING (image_id) WHERE i.dataset = d.name) AS labels,
    (SELECT count(*) FROM classes c WHERE c.dataset = d.name) AS classes,
    (SELECT count(DISTINCT l.annotator) FROM labels l JOIN images i USING (image_id) WHERE i.dataset = d.name) AS annotators,
    (SELECT count(*) FROM errors e WHERE e.dataset = d.name) AS errors
FROM datasets d
ORDER BY d.name
