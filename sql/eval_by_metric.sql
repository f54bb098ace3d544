-- description: Performance by any column: a numeric image, label or prediction metric cut into quantile bins (or the given edges), or a categorical column (image metadata such as camera, site or split, a label's annotator, an image's tags as 'tags') with one bin per value; per model and bin the support, recall (TPR) with a Wilson 95% interval, and for image-level columns precision (Wilson), false positives per image and COCO's 101-point AP at iou_threshold (mean over classes). Label-level columns give recall only: a false positive has no label to read them from. Prediction-level columns (prediction_metrics, e.g. pred_box_area, or a column of predictions such as the predicted class with level := 'prediction', one bin per value) put each prediction in the bin of its own value and a label in the bin of the prediction matched to it at iou_threshold; a label no prediction matched has no value and is left out, so they give precision (Wilson), false positives per image (over every image of the model, so the bins add up to the model's) and AP over the bin's predictions (the labels matched to them as the positives: how well the scores rank the bin's hits above its false positives), and no recall (NULL: every label counted is found by construction); labels counts the matched labels.
-- param: metric_name VARCHAR = 'brightness' -- any column of image_metrics, label_metrics, prediction_metrics, images, labels or predictions, or 'tags'
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted in recall and precision (AP uses every score)
-- param: bins INTEGER = 4 -- number of quantile bins when no edges are given (numeric columns), 1 to 1000
-- param: edges DOUBLE[] = NULL -- bin edges, e.g. [0.2, 0.5]; NULL cuts at quantiles (numeric columns)
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- param: level VARCHAR = NULL -- where to read metric_name: 'image', 'label' or 'prediction'; NULL takes the first that has it: image_metrics, label_metrics, images, labels, prediction_metrics, predictions
-- needs: tables
WITH image_values AS (
    SELECT image_id AS item_id, value FROM (
        UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions')) AS DOUBLE) FROM image_metrics)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
label_values AS (
    SELECT label_id AS item_id, value FROM (
        UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'versions')) AS DOUBLE) FROM label_metrics)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
prediction_values AS (
    SELECT prediction_id AS item_id, value FROM (
        UNPIVOT (SELECT prediction_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('prediction_id', 'model', 'computed_at')) AS DOUBLE)
                 FROM prediction_metrics)
        ON COLUMNS(* EXCLUDE prediction_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
-- metadata: the columns of images and labels as text (ids and geometry left out), and an image's tags
image_categories AS (
    SELECT image_id AS item_id, value AS category FROM (
        UNPIVOT (SELECT image_id, CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'path', 'sha256', 'source_id')) AS VARCHAR)
                 FROM images)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
    UNION ALL
    SELECT i.image_id, coalesce(string_agg(DISTINCT t.tag, ', ' ORDER BY t.tag), '(none)')
    FROM images i LEFT JOIN tags t ON t.item_type = 'image' AND t.item_id = i.image_id
    WHERE metric_name = 'tags' GROUP BY i.image_id
),
label_categories AS (
    SELECT label_id AS item_id, value AS category FROM (
        UNPIVOT (SELECT label_id, CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'image_id', 'source_id', 'x', 'y', 'w', 'h',
                                                                   'polygon')) AS VARCHAR) FROM labels)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
prediction_categories AS (  -- a prediction's own columns as text (its predicted class): the prediction-level slices
    SELECT prediction_id AS item_id, value AS category FROM (
        UNPIVOT (SELECT prediction_id, CAST(COLUMNS(lambda c: c NOT IN ('prediction_id', 'model', 'image_id', 'score', 'source_id',
                                                                        'x', 'y', 'w', 'h', 'area', 'polygon', 'mask', 'probs',
                                                                        'keypoints')) AS VARCHAR) FROM predictions)
        ON COLUMNS(* EXCLUDE prediction_id) INTO NAME metric VALUE value
    ) WHERE metric = metric_name
),
-- where the name is found, in order of precedence (prediction_metrics last: a name found before keeps its meaning)
levels AS (
    SELECT 1 AS precedence, 'image' AS kind, false AS categorical, EXISTS (SELECT 1 FROM image_values) AS present
    UNION ALL SELECT 2, 'label', false, EXISTS (SELECT 1 FROM label_values)
    UNION ALL SELECT 3, 'image', true, EXISTS (SELECT 1 FROM image_categories)
    UNION ALL SELECT 4, 'label', true, EXISTS (SELECT 1 FROM label_categories)
    UNION ALL SELECT 5, 'prediction', false, EXISTS (SELECT 1 FROM prediction_values)
    UNION ALL SELECT 6, 'prediction', true, EXISTS (SELECT 1 FROM prediction_categories)
),
scope AS (
    SELECT CASE WHEN level IS NOT NULL AND level NOT IN ('image', 'label', 'prediction')
                THEN error('eval_by_metric: level must be ''image'', ''label'' or ''prediction'', not ''' || level || '''')
                WHEN count(*) = 0
                THEN error('eval_by_metric: no values for metric ''' || metric_name || ''' in '
                           || CASE level WHEN 'image' THEN 'image_metrics or images'
                                         WHEN 'label' THEN 'label_metrics or labels'
                                         WHEN 'prediction' THEN 'prediction_metrics (qmdb evaluate --box-metrics fills it) or predictions'
                                         ELSE 'image_metrics, label_metrics, prediction_metrics, images, labels or predictions' END
                           || ' (compute it first, or check its name)')
                ELSE arg_min(kind, precedence) END AS kind,
           arg_min(categorical, precedence) AS categorical
    FROM levels WHERE present AND (level IS NULL OR kind = level)
),
r AS (
    SELECT m.model, m.item_type, m.class, m.image_id, m.prediction_id, m.score, m.det_rank, m.outcome,
           CASE WHEN s.categorical THEN NULL WHEN s.kind = 'image' THEN iv.value WHEN s.kind = 'label' THEN lv.value
                ELSE pv.value END AS value,
           CASE WHEN NOT s.categorical THEN NULL WHEN s.kind = 'image' THEN ic.category WHEN s.kind = 'label' THEN lc.category
                ELSE pc.category END AS category,
           s.kind, s.categorical, o.image_order
    FROM matches m
    CROSS JOIN scope s
    JOIN (SELECT i.image_id, dense_rank() OVER (  -- COCO's tie rule: ties across images in COCO image id order
              ORDER BY CASE WHEN d.format = 'coco' THEN TRY_CAST(i.source_id AS BIGINT) END NULLS LAST, i.image_id
          ) AS image_order
          FROM images i LEFT JOIN datasets d ON d.name = i.dataset) o ON o.image_id = m.image_id
    LEFT JOIN image_values iv ON iv.item_id = m.image_id AND NOT s.categorical
    LEFT JOIN label_values lv ON lv.item_id = m.label_id AND NOT s.categorical
    -- a prediction's own value; a label's is its matched prediction's (NULL when unmatched: left out)
    LEFT JOIN prediction_values pv ON pv.item_id = m.prediction_id AND s.kind = 'prediction'
    LEFT JOIN image_categories ic ON ic.item_id = m.image_id AND s.categorical
    LEFT JOIN label_categories lc ON lc.item_id = m.label_id AND s.categorical
    LEFT JOIN prediction_categories pc ON pc.item_id = m.prediction_id AND s.categorical AND s.kind = 'prediction'
    WHERE (model_name IS NULL OR m.model = model_name)
      AND (m.threshold IS NULL OR abs(m.threshold - iou_threshold) < 1e-9)
      AND NOT m.ignored
      AND m.iou_type = iou_type_name
),
cuts AS (
    SELECT CASE WHEN NOT bins BETWEEN 1 AND 1000
                THEN error('eval_by_metric: bins must be between 1 and 1000, not ' || bins) END AS refused,
           coalesce(edges, (
        SELECT quantile_cont(value, list_transform(range(1, least(greatest(bins, 1), 1000)), lambda i: i / bins))
        FROM (SELECT DISTINCT CASE kind WHEN 'image' THEN image_id WHEN 'prediction' THEN prediction_id END AS item, value
              FROM r WHERE value IS NOT NULL
                       AND (kind = 'image' OR item_type = CASE kind WHEN 'label' THEN 'label' ELSE 'prediction' END))
    )) AS e
),
binned AS (
    SELECT r.*, CASE WHEN r.categorical THEN CAST(dense_rank() OVER (ORDER BY r.category) - 1 AS INTEGER)
                     ELSE CAST(len(list_filter(c.e, lambda x: x <= r.value)) AS INTEGER) END AS bin,
           CASE WHEN NOT r.categorical THEN c.e END AS e
    FROM r CROSS JOIN cuts c
    WHERE c.refused IS NULL AND (r.value IS NOT NULL OR r.category IS NOT NULL) AND (r.kind <> 'label' OR r.item_type = 'label')
),
rates AS (
    SELECT
        model,
        bin,
        any_value(kind) AS kind,
        any_value(e) AS e,
        any_value(category) AS category,
        bool_or(categorical) AS categorical,
        count(DISTINCT image_id) AS images,
        count(*) FILTER (WHERE item_type = 'label') AS labels,
        count(*) FILTER (WHERE item_type = 'label' AND coalesce(outcome = 'TP' AND score >= min_score, false)) AS found,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'TP' AND score >= min_score) AS tp,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'FP' AND score >= min_score) AS fp
    FROM binned
    GROUP BY model, bin
),
dets AS (
    SELECT model, bin, class, CAST(outcome = 'TP' AS INTEGER) AS hit,
           row_number() OVER (PARTITION BY model, bin, class ORDER BY score DESC, image_order, det_rank) AS n
    FROM binned WHERE item_type = 'prediction' AND kind IN ('image', 'prediction')
),
npos AS (
    SELECT model, bin, class, count(*) AS npos FROM binned WHERE item_type = 'label' AND kind IN ('image', 'prediction') GROUP BY ALL
),
curve AS (
    SELECT d.model, d.bin, d.class, d.n, p.npos,
           sum(d.hit) OVER w AS ctp, d.n - sum(d.hit) OVER w AS cfp
    FROM dets d JOIN npos p USING (model, bin, class)
    WINDOW w AS (PARTITION BY d.model, d.bin, d.class ORDER BY d.n)
),
points AS (
    SELECT model, bin, class, n, ctp / npos AS rc,
           max(ctp / (cfp + ctp + 2.220446049250313e-16)) OVER (PARTITION BY model, bin, class ORDER BY n DESC) AS envelope
    FROM curve
),
steps AS (
    -- a detection covers COCO's recall thresholds k * 0.01 in (previous recall, its recall]
    SELECT model, bin, class, envelope, rc, lag(rc, 1, -1.0) OVER (PARTITION BY model, bin, class ORDER BY n) AS rc_prev
    FROM points
),
covered AS (
    SELECT model, bin, class, envelope,
           CASE WHEN rc < 0 THEN 0 ELSE least(101, floor(rc * 100 + 1e-6) + CASE WHEN floor(rc * 100 + 1e-6) * 0.01 <= rc THEN 1 ELSE 0 END) END
         - CASE WHEN rc_prev < 0 THEN 0 ELSE least(101, floor(rc_prev * 100 + 1e-6) + CASE WHEN floor(rc_prev * 100 + 1e-6) * 0.01 <= rc_prev THEN 1 ELSE 0 END) END AS k
    FROM steps
),
class_ap AS (
    SELECT p.model, p.bin, p.class, coalesce(sum(c.envelope * c.k), 0) / 101 AS ap
    FROM npos p LEFT JOIN covered c USING (model, bin, class)
    GROUP BY p.model, p.bin, p.class
),
bin_ap AS (
    SELECT model, bin, avg(ap) AS ap, count(*) AS classes FROM class_ap GROUP BY model, bin
),
model_images AS (  -- prediction-level bins: false positives per image of the model
    SELECT model, count(DISTINCT image_id) AS images FROM r GROUP BY model
)
SELECT
    r.model,
    metric_name AS metric,
    r.kind AS scope,
    r.bin,
    CASE WHEN r.categorical OR r.bin = 0 THEN NULL ELSE r.e[r.bin] END AS lower_edge,
    CASE WHEN r.categorical OR r.bin = len(r.e) THEN NULL ELSE r.e[r.bin + 1] END AS upper_edge,
    r.images,
    r.labels,
    CASE WHEN r.kind <> 'prediction' THEN r.found / nullif(r.labels, 0) END AS recall,
    CASE WHEN r.kind <> 'prediction' THEN wilson_low(r.found, r.labels) END AS recall_low,
    CASE WHEN r.kind <> 'prediction' THEN wilson_high(r.found, r.labels) END AS recall_high,
    CASE WHEN r.kind <> 'label' THEN r.tp + r.fp END AS predictions,
    CASE WHEN r.kind <> 'label' THEN r.tp / nullif(r.tp + r.fp, 0) END AS precision,
    CASE WHEN r.kind <> 'label' THEN wilson_low(r.tp, r.tp + r.fp) END AS precision_low,
    CASE WHEN r.kind <> 'label' THEN wilson_high(r.tp, r.tp + r.fp) END AS precision_high,
    CASE WHEN r.kind = 'image' THEN r.fp / nullif(r.images, 0)
         WHEN r.kind = 'prediction' THEN r.fp / nullif(mi.images, 0) END AS fp_per_image,
    a.ap,
    r.category
FROM rates r
LEFT JOIN bin_ap a USING (model, bin)
LEFT JOIN model_images mi USING (model)
ORDER BY r.model, r.bin
