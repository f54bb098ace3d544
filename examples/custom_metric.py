"""A custom image metric and a custom label metric, materialized and queried like the built-ins.

    python examples/custom_metric.py                     # builds a small project from bundled photos
    qmdb metrics my.duckdb --plugin examples/custom_metric.py   # or: the same metrics from the CLI

A metric is a function of the decoded image (`image.bgr`, `image.gray`,
`image.channels`, … computed once per image and shared by every metric) and,
for a label metric, of that image's boxes (`boxes.x`, `boxes.w`, `boxes.crops(array)`,
one value per box). Bump `version` when you change the definition: the next run
recomputes that metric, and only that one.
"""

import tempfile
from pathlib import Path

import cv2
import numpy as np

import qmdb


@qmdb.image_metric(version=1, type="DOUBLE", unit="0..1")
def green_share(image):
    """Share of the pixels whose green channel is the largest (vegetation, lawns)."""
    b, g, r = image.channels
    return float(((g > r) & (g > b)).mean())


@qmdb.label_metric(version=1, type="DOUBLE", unit="0..1")
def box_edge_density(image, boxes):
    """Share of the pixels inside the box that lie on a Canny edge (texture of the object)."""
    edges = cv2.Canny(image.gray, 100, 200)
    return boxes.crop_stat(edges, lambda crop: float((crop > 0).mean()))


def main() -> None:
    from sklearn.datasets import load_sample_images

    folder = Path(tempfile.mkdtemp(prefix="qmdb-example-"))
    for name, rgb in zip(["china", "flower"], load_sample_images().images):
        cv2.imwrite(str(folder / f"{name}.jpg"), np.ascontiguousarray(rgb[..., ::-1]))
    con = qmdb.connect(folder / "example.duckdb")
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('photos', ?, 'folders')", [str(folder)])
    con.execute("INSERT INTO images (dataset, path) VALUES ('photos', 'china.jpg'), ('photos', 'flower.jpg')")
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, source_id) "
                "SELECT image_id, 'thing', 100, 80, 200, 150, '1' FROM images")
    print(qmdb.compute_metrics(con, workers=0, progress=False))
    con.sql("SELECT path, green_share, brightness, sharpness FROM metrics_images ORDER BY path").show()
    con.sql("SELECT path, box_edge_density, box_brightness FROM metrics_labels ORDER BY path").show()
    # the custom metric is also an ad hoc SQL function, by id
    con.sql("SELECT path, green_share(image_id) AS ad_hoc FROM images ORDER BY path").show()


if __name__ == "__main__":
    main()
