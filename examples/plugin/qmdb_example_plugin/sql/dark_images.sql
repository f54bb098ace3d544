-- description: Images with the largest share of near-black pixels (the example plugin's dark_share metric), darkest first.
-- param: min_share DOUBLE = 0.5 -- the smallest share of pixels below grey level 32 to list
-- needs: tables
SELECT i.image_id, i.dataset, i.path, m.dark_share
FROM image_metrics m
JOIN images i USING (image_id)
WHERE m.dark_share >= min_share
ORDER BY m.dark_share DESC, i.image_id
