"""COCO's tie rule as SQL: the order in which tied scores across images are taken.

pycocotools concatenates each class's detections image by image in ascending
image id (`Params.imgIds` is sorted) and then sorts them by score with a stable
sort, so equal scores keep that image order. For a dataset imported from COCO
the image id is the source file's (`images.source_id`), not qmdb's `image_id`
(which follows the listing order of the file); other formats have no such id
and use `image_id`.
"""

from __future__ import annotations

# One row per image: `image_order`, a dense rank that sorts images as COCOeval does.
IMAGE_ORDER = """
    SELECT i.image_id, dense_rank() OVER (
        ORDER BY CASE WHEN d.format = 'coco' THEN TRY_CAST(i.source_id AS BIGINT) END NULLS LAST, i.image_id
    ) AS image_order
    FROM images i LEFT JOIN datasets d ON d.name = i.dataset
"""
