-- description: Semantic segmentation confusion (models of task semantic, from `qmdb import predictions semantic`): per model, image, label class and predicted class the pixels they share (mask_intersection of the two RLE masks); predicted_class NULL counts the label pixels no prediction covers. Ignored (255) label pixels are never counted.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every semantic model
-- needs: qmdb
WITH m AS (
    SELECT model, dataset FROM models WHERE task = 'semantic' AND (model_name IS NULL OR model = model_name)
),
l AS (
    SELECT m.model, l.image_id, l.class, l.mask, l.area
    FROM m JOIN images i ON i.dataset = m.dataset JOIN labels l ON l.image_id = i.image_id
    WHERE l.mask IS NOT NULL
),
p AS (
    SELECT p.model, p.image_id, p.class, p.mask FROM predictions p JOIN m ON m.model = p.model WHERE p.mask IS NOT NULL
),
pairs AS (
    SELECT l.model, l.image_id, l.class AS label_class, p.class AS predicted_class,
           mask_intersection(l.mask, p.mask) AS pixels, l.area
    FROM l JOIN p ON p.model = l.model AND p.image_id = l.image_id
),
uncovered AS (
    SELECT l.model, l.image_id, l.class AS label_class, NULL::VARCHAR AS predicted_class,
           (l.area - coalesce(sum(pairs.pixels), 0))::BIGINT AS pixels
    FROM l LEFT JOIN pairs ON pairs.model = l.model AND pairs.image_id = l.image_id AND pairs.label_class = l.class
    GROUP BY l.model, l.image_id, l.class, l.area
)
SELECT model, image_id, label_class, predicted_class, pixels FROM pairs WHERE pixels > 0
UNION ALL
SELECT model, image_id, label_class, predicted_class, pixels FROM uncovered WHERE pixels > 0
ORDER BY model, image_id, label_class, predicted_class NULLS LAST
