-- description: One row per evaluated model and IoU type (bbox, segm, keypoints): COCO's AP, AP50, AP75, AP small/medium/large, AR@1/10/100 and AR small/medium/large (identical to pycocotools' COCOeval; NULL where it says -1), and top-1 accuracy for classifiers. Keypoints use COCO's 20 detections where boxes use 100 (ar100 is AR@20; no ar1, ar10, small).
-- needs: tables
SELECT
    e.model,
    e.iou_type,
    e.dataset,
    e.task,
    e.images,
    e.labels,
    e.predictions,
    avg(a.ap) FILTER (WHERE a.area_range = 'all' AND a.max_dets = e.max_dets) AS ap,
    avg(a.ap) FILTER (WHERE a.area_range = 'all' AND a.max_dets = e.max_dets AND a.threshold = 0.5) AS ap50,
    avg(a.ap) FILTER (WHERE a.area_range = 'all' AND a.max_dets = e.max_dets AND a.threshold = 0.75) AS ap75,
    avg(a.ap) FILTER (WHERE a.area_range = 'small' AND a.max_dets = e.max_dets) AS ap_small,
    avg(a.ap) FILTER (WHERE a.area_range = 'medium' AND a.max_dets = e.max_dets) AS ap_medium,
    avg(a.ap) FILTER (WHERE a.area_range = 'large' AND a.max_dets = e.max_dets) AS ap_large,
    avg(a.recall) FILTER (WHERE a.area_range = 'all' AND a.max_dets = 1) AS ar1,
    avg(a.recall) FILTER (WHERE a.area_range = 'all' AND a.max_dets = 10) AS ar10,
    avg(a.recall) FILTER (WHERE a.area_range = 'all' AND a.max_dets = e.max_dets) AS ar100,
    avg(a.recall) FILTER (WHERE a.area_range = 'small' AND a.max_dets = e.max_dets) AS ar_small,
    avg(a.recall) FILTER (WHERE a.area_range = 'medium' AND a.max_dets = e.max_dets) AS ar_medium,
    avg(a.recall) FILTER (WHERE a.area_range = 'large' AND a.max_dets = e.max_dets) AS ar_large,
    (SELECT avg(CAST(m.outcome = 'TP' AS DOUBLE)) FROM matches m
     WHERE m.model = e.model AND m.iou_type = e.iou_type AND m.item_type = 'label'
       AND e.task = 'classification') AS accuracy,
    e.evaluated_at
FROM (SELECT *, CASE WHEN iou_type = 'keypoints' THEN 20 ELSE 100 END AS max_dets FROM evaluations) e
LEFT JOIN eval_ap a ON a.model = e.model AND a.iou_type = e.iou_type
GROUP BY e.model, e.iou_type, e.dataset, e.task, e.images, e.labels, e.predictions, e.evaluated_at
ORDER BY e.model, e.iou_type
