-- description: Duplicate groups (duplicate_groups table, from qmdb cluster): every item in a connected group of near-duplicates (neighbours within max_distance, chained), the group's kept item (the image with the most pixels, then the largest file), and for images their dataset and path; largest groups first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose groups to read; NULL reads each model
-- needs: tables
SELECT g.model, g.item_type, g.group_id, g.group_size, g.item_id, g.keep, g.max_distance, i.dataset, i.path
FROM duplicate_groups g
LEFT JOIN images i ON g.item_type = 'image' AND i.image_id = g.item_id
WHERE embedding_model IS NULL OR g.model = embedding_model
ORDER BY g.model, g.item_type, g.group_size DESC, g.group_id, NOT g.keep, g.item_id
