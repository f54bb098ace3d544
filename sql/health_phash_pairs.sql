-- description: Pairs of images of one dataset whose 64-bit perceptual hashes are within max_distance bits (image_a < image_b), with the distance and whether their bytes are the same; found by pigeonhole bands (two hashes within d bits agree exactly on one of d + 1 bands), not by comparing every pair. The base of issues_near_duplicates and splits_leaks.
-- param: max_distance INTEGER = 0 -- Hamming distance between phashes (0: equal hashes)
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH hashed AS (
    SELECT i.image_id, i.dataset, i.sha256, m.phash
    FROM image_metrics m JOIN images i USING (image_id)
    WHERE m.phash IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
),
bands AS (
    SELECT h.*, b.band,
           (h.phash >> (b.band * (64 // (max_distance + 1)))::UTINYINT)
           & CASE WHEN b.band = max_distance THEN 18446744073709551615::UBIGINT
                  ELSE ((1::UBIGINT << (64 // (max_distance + 1))::UTINYINT) - 1::UBIGINT) END AS key
    FROM hashed h, range(0, max_distance + 1) b(band)
)
SELECT DISTINCT a.dataset, a.image_id AS image_a, b.image_id AS image_b, bit_count(xor(a.phash, b.phash)) AS distance,
       a.sha256 IS NOT DISTINCT FROM b.sha256 AS same_bytes
FROM bands a JOIN bands b ON a.dataset = b.dataset AND a.band = b.band AND a.key = b.key AND a.image_id < b.image_id
WHERE bit_count(xor(a.phash, b.phash)) <= max_distance
ORDER BY a.dataset, image_a, image_b
