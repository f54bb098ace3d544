-- description: Semantic segmentation labels (datasets of task semantic): per image and class its pixels, its share of the image (pixels / width x height) and of the image's labelled (not ignored) pixels; largest share first within each image.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every semantic dataset
-- needs: tables
SELECT i.dataset, l.image_id, i.path, l.class, l.label_id, l.area::BIGINT AS pixels,
       l.area / nullif(i.width * i.height, 0) AS share,
       l.area / nullif(sum(l.area) OVER (PARTITION BY l.image_id), 0) AS labelled_share
FROM labels l
JOIN images i ON i.image_id = l.image_id
JOIN datasets d ON d.name = i.dataset
WHERE d.task = 'semantic' AND l.mask IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
ORDER BY l.image_id, share DESC, l.class
