"""The 2-D map on real digits: the classes separate (k-NN accuracy in 2-D far above chance), the map is
recomputed when the vectors change, and it draws as a PNG and exports as a self-contained HTML file."""

import shutil

import numpy as np
import pytest

import qmdb
from qmdb.cli import main
from qmdb.embeddings import map as embedding_map

from .conftest import add_dataset, digit_images


@pytest.fixture
def digits_copy(digits_project, tmp_path):
    db = tmp_path / "digits.duckdb"
    shutil.copy(digits_project, db)
    return db


def _knn_accuracy(con) -> float:
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    rows = con.sql("SELECT m.x, m.y, l.class FROM embedding_map m JOIN labels l ON l.image_id = m.item_id").fetchall()
    xy, classes = np.array([r[:2] for r in rows]), [r[2] for r in rows]
    return float(cross_val_score(KNeighborsClassifier(5), xy, classes, cv=5).mean())


def test_pca_map_is_the_principal_plane_and_separates_the_digits(digits_copy):
    from sklearn.decomposition import PCA

    con = qmdb.connect(digits_copy)
    try:
        assert embedding_map.materialize(con, method="pca") == 1797
        assert embedding_map.materialize(con, method="pca") == 0
        xy = np.array(con.sql("SELECT x, y FROM embedding_map ORDER BY item_id").fetchall())
        vectors = np.array([v for (v,) in con.sql("SELECT vector FROM embeddings ORDER BY item_id").fetchall()])
        reference = PCA(2).fit_transform(vectors)
        np.testing.assert_allclose(np.abs(xy), np.abs(reference), atol=1e-4)
        accuracy = _knn_accuracy(con)
        assert accuracy > 0.5, accuracy  # measured 0.59; chance is 0.10
    finally:
        con.close()


@pytest.mark.slow  # numba compiles UMAP on first use: about 2 minutes on the 2-core test machine
def test_umap_map_separates_the_digits(digits_copy):
    pytest.importorskip("umap")
    con = qmdb.connect(digits_copy)
    try:
        assert embedding_map.materialize(con, method="umap") == 1797
        assert con.sql("SELECT DISTINCT method FROM embedding_map").fetchall() == [("umap",)]
        accuracy = _knn_accuracy(con)
        assert accuracy > 0.9, accuracy  # measured 0.99
    finally:
        con.close()


def test_map_is_recomputed_when_vectors_change_and_draws(digits_copy, tmp_path, capsys):
    assert main(["map", str(digits_copy), "--method", "pca"]) == 0
    assert "embedding_map: 1797 image rows written" in capsys.readouterr().out
    con = qmdb.connect(digits_copy)
    images, target = digit_images()
    add_dataset(con, tmp_path, "more", images[:5], classes=target[:5])
    con.close()
    assert main(["embed", str(digits_copy), "--no-progress"]) == 0
    assert "map image: recomputed from the changed vectors (1802 rows)" in capsys.readouterr().out
    png = tmp_path / "map.png"
    assert main(["plot", str(digits_copy), "map", "--by", "class", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_plot_on_a_read_only_project_without_a_map_computes_one(digits_project, tmp_path):
    png = tmp_path / "map.png"
    assert main(["plot", str(digits_project), "map", "-p", "method=pca", "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_html_export_is_self_contained_with_a_thumbnail_per_point(digits_copy, tmp_path):
    import json
    import re

    out = tmp_path / "map.html"
    assert main(["map", str(digits_copy), "--method", "pca", "-o", str(out), "--by", "class"]) == 0
    page = out.read_text()
    data = json.loads(re.search(r'<script id="points" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert len(data["points"]) == 1797 and {p["c"] for p in data["points"]} == {str(d) for d in range(10)}
    assert all(p["t"].startswith("data:image/jpeg;base64,") for p in data["points"])
    assert "src=\"http" not in page and "<link" not in page
