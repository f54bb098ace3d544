-- description: One row per dataset: images (readable and broken), labels, classes, annotators, error rows.
-- needs: tables
SELECT
    d.name AS dataset,
    d.format,
    d.task,
    (SELECT count(*) FROM images i WHERE i.dataset = d.name) AS images,
    (SELECT count(*) FROM images i WHERE i.dataset = d.name AND i.status <> 'ok') AS broken_images,
    (SELECT count(*) FROM labels l JOIN images i USING (image_id) WHERE i.dataset = d.name) AS labels,
    (SELECT count(*) FROM classes c WHERE c.dataset = d.name) AS classes,
    (SELECT count(DISTINCT l.annotator) FROM labels l JOIN images i USING (image_id) WHERE i.dataset = d.name) AS annotators,
    (SELECT count(*) FROM errors e WHERE e.dataset = d.name) AS errors
FROM datasets d
ORDER BY d.name
