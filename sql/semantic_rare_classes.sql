-- description: Rare classes of semantic datasets: per class of the class map the images holding it, their share of the labelled images, its pixels and share of all labelled pixels; rare when that pixel share is below max_share or no image holds the class; rarest first.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every semantic dataset
-- param: max_share DOUBLE = 0.01 -- a class holding less than this share of the labelled pixels is rare
-- needs: tables
WITH ds AS (
    SELECT name FROM datasets WHERE task = 'semantic' AND (dataset_name IS NULL OR name = dataset_name)
),
px AS (
    SELECT i.dataset, l.class, count(DISTINCT l.image_id) AS images, sum(l.area) AS pixels
    FROM labels l JOIN images i ON i.image_id = l.image_id JOIN ds ON ds.name = i.dataset
    WHERE l.mask IS NOT NULL GROUP BY ALL
),
totals AS (
    SELECT i.dataset, count(DISTINCT l.image_id) AS labelled_images, sum(l.area) AS labelled_pixels
    FROM labels l JOIN images i ON i.image_id = l.image_id JOIN ds ON ds.name = i.dataset
    WHERE l.mask IS NOT NULL GROUP BY ALL
)
SELECT c.dataset, c.class_id, c.class, coalesce(px.images, 0) AS images,
       coalesce(px.images, 0) / nullif(t.labelled_images, 0) AS image_share,
       coalesce(px.pixels, 0)::BIGINT AS pixels,
       coalesce(px.pixels, 0) / nullif(t.labelled_pixels, 0) AS pixel_share,
       coalesce(px.pixels, 0) / nullif(t.labelled_pixels, 0) < max_share OR px.pixels IS NULL AS is_rare
FROM classes c
JOIN ds ON ds.name = c.dataset
LEFT JOIN px ON px.dataset = c.dataset AND px.class = c.class
LEFT JOIN totals t ON t.dataset = c.dataset
ORDER BY c.dataset, pixel_share NULLS FIRST, c.class_id
