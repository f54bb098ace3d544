-- description: CleanVision's near-duplicates issue, one row per image with a perceptual hash: images of one dataset whose phash is within max_distance bits of another image's of other bytes (exact copies are exact_duplicates); score = 1 / (1 + the number of such images), lower is worse.
-- param: max_distance INTEGER = 0 -- Hamming distance between 64-bit phashes (CleanVision: 0, equal hashes)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH hashed AS (
    SELECT i.image_id, i.dataset, i.sha256, m.phash
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.phash IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
),
-- pigeonhole: two hashes within d bits agree exactly on one of d + 1 bands of the 64 bits
bands AS (
    SELECT h.*, b.band,
           (h.phash >> (b.band * (64 // (max_distance + 1)))::UTINYINT)
           & CASE WHEN b.band = max_distance THEN 18446744073709551615::UBIGINT
                  ELSE ((1::UBIGINT << (64 // (max_distance + 1))::UTINYINT) - 1::UBIGINT) END AS key
    FROM hashed h, range(0, max_distance + 1) b(band)
),
pairs AS (
    SELECT DISTINCT a.image_id, a.dataset, b.image_id AS other_id, bit_count(xor(a.phash, b.phash)) AS distance
    FROM bands a JOIN bands b ON a.dataset = b.dataset AND a.band = b.band AND a.key = b.key AND a.image_id <> b.image_id
    WHERE bit_count(xor(a.phash, b.phash)) <= max_distance AND a.sha256 IS DISTINCT FROM b.sha256
),
counted AS (
    SELECT image_id, count(*) AS near, arg_min(other_id, distance) AS closest, min(distance) AS distance
    FROM pairs GROUP BY image_id
)
SELECT 'image' AS item_type, h.image_id AS item_id, h.dataset, 'near_duplicates' AS issue_type,
       1.0 / (1 + coalesce(c.near, 0)) AS score, c.near IS NOT NULL AS is_issue,
       CASE WHEN c.near IS NULL THEN printf('no other image within %d bits', max_distance)
            ELSE printf('%d image(s) within %d bits (closest: image %d, %d bits)', c.near, max_distance, c.closest, c.distance) END AS reason
FROM hashed h LEFT JOIN counted c USING (image_id)
ORDER BY score, item_id
