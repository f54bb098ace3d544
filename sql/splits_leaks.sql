-- description: Leaky splits: pairs of images of one dataset in different splits that are copies (same sha256), near-duplicates by perceptual hash (within max_distance bits) or by embedding (neighbors within embedding_distance), one row per pair and method; image_b is on the evaluation side (train < val < test < others), so dropping the image_b's removes the leak.
-- param: max_distance INTEGER = 0 -- phash Hamming distance for a near-duplicate (0: equal hashes)
-- param: embedding_distance DOUBLE = 0.02 -- neighbors-table distance for an embedding near-duplicate
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH ranked AS (
    SELECT image_id, dataset, split, sha256,
           CASE lower(split) WHEN 'train' THEN 0 WHEN 'val' THEN 1 WHEN 'valid' THEN 1 WHEN 'validation' THEN 1
                             WHEN 'test' THEN 2 ELSE 3 END AS side
    FROM images
    WHERE split IS NOT NULL AND (dataset_name IS NULL OR dataset = dataset_name)
),
found AS (
    SELECT a.image_id AS x, b.image_id AS y, 'sha256' AS method, 0.0 AS distance
    FROM ranked a JOIN ranked b ON a.dataset = b.dataset AND a.sha256 = b.sha256 AND a.image_id < b.image_id
    UNION ALL
    SELECT image_a, image_b, 'phash', distance
    FROM health_phash_pairs(max_distance := max_distance, dataset_name := dataset_name) WHERE NOT same_bytes
    UNION ALL
    SELECT least(item_id, neighbor_id), greatest(item_id, neighbor_id), 'embedding:' || model, min(distance)
    FROM neighbors WHERE item_type = 'image' AND distance <= embedding_distance GROUP BY ALL
),
oriented AS (
    SELECT a.dataset, CASE WHEN (a.side, a.image_id) < (b.side, b.image_id) THEN a ELSE b END AS ta,
           CASE WHEN (a.side, a.image_id) < (b.side, b.image_id) THEN b ELSE a END AS tb, f.method, f.distance
    FROM found f JOIN ranked a ON a.image_id = f.x JOIN ranked b ON b.image_id = f.y
    WHERE a.dataset = b.dataset AND a.split <> b.split
)
SELECT dataset, ta.image_id AS image_a, ta.split AS split_a, tb.image_id AS image_b, tb.split AS split_b, method, distance,
       printf('%s image %d is %s of %s image %d', tb.split, tb.image_id,
              CASE WHEN method = 'sha256' THEN 'a byte copy' ELSE printf('a near-duplicate (%s, distance %.4g)', method, distance) END,
              ta.split, ta.image_id) AS reason
FROM oriented
ORDER BY dataset, split_a, split_b, method, image_b, image_a
