-- description: Confusion matrix per model, background included: for each label the class of the best-overlapping prediction (any class, IoU >= iou_threshold, score >= min_score) or 'background' (missed); each prediction overlapping no label is a row with true class 'background' (spurious). Classifiers: label vs top-1.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- lowest IoU for a prediction to count on a label
-- param: min_score DOUBLE = 0.5 -- predictions scoring below it are not counted
-- needs: tables
WITH ev AS (
    SELECT model, dataset, task FROM evaluations WHERE model_name IS NULL OR model = model_name
),
lab AS (
    SELECT ev.model, l.label_id, l.image_id, l.class, l.x, l.y, l.w, l.h
    FROM ev JOIN images i ON i.dataset = ev.dataset JOIN labels l ON l.image_id = i.image_id
    WHERE ev.task = 'detection' AND l.w IS NOT NULL AND NOT l.iscrowd
),
pred AS (
    SELECT p.model, p.prediction_id, p.image_id, p.class, p.x, p.y, p.w, p.h
    FROM ev JOIN predictions p ON p.model = ev.model JOIN images i ON i.image_id = p.image_id AND i.dataset = ev.dataset
    WHERE ev.task = 'detection' AND p.w IS NOT NULL AND p.score >= min_score
),
pairs AS (
    SELECT lab.model, lab.label_id, pred.prediction_id, pred.class AS predicted_class,
           (least(lab.x + lab.w, pred.x + pred.w) - greatest(lab.x, pred.x))
         * (least(lab.y + lab.h, pred.y + pred.h) - greatest(lab.y, pred.y)) AS inter,
           lab.w * lab.h + pred.w * pred.h AS area_sum
    FROM lab JOIN pred ON pred.model = lab.model AND pred.image_id = lab.image_id    -- the boxes overlap
    WHERE pred.x < lab.x + lab.w AND lab.x < pred.x + pred.w AND pred.y < lab.y + lab.h AND lab.y < pred.y + pred.h
),
hits AS (
    SELECT model, label_id, prediction_id, predicted_class, inter / (area_sum - inter) AS iou
    FROM pairs WHERE inter / (area_sum - inter) >= iou_threshold
),
cells AS (
    SELECT lab.model, lab.class AS true_class, coalesce(arg_max(h.predicted_class, h.iou), 'background') AS predicted_class
    FROM lab LEFT JOIN hits h ON h.model = lab.model AND h.label_id = lab.label_id
    GROUP BY lab.model, lab.label_id, lab.class
    UNION ALL
    SELECT pred.model, 'background', pred.class
    FROM pred ANTI JOIN hits h ON h.model = pred.model AND h.prediction_id = pred.prediction_id
    UNION ALL
    SELECT m.model, m.class, coalesce(p.class, 'background')
    FROM matches m JOIN ev ON ev.model = m.model AND ev.task = 'classification'
    LEFT JOIN predictions p ON p.prediction_id = m.prediction_id AND p.score >= min_score
    WHERE m.item_type = 'label'
)
SELECT
    model,
    true_class,
    predicted_class,
    count(*) AS count,
    count(*) / sum(count(*)) OVER (PARTITION BY model, true_class) AS share_of_true_class
FROM cells
GROUP BY model, true_class, predicted_class
ORDER BY model, true_class, count(*) DESC, predicted_class
