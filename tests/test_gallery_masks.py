"""The gallery draws masks and polygons: each card's labels and predictions carry rings, a polygon as
stored or a mask's traced outline, and the page, the server and the static export hand them on."""

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as api
from skimage import data, transform

import qmdb
from qmdb.gallery import annotate, export_gallery
from qmdb.importers import import_dataset, import_predictions

H, W = 96, 128


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Coins thresholded into coin/background (holes and many parts), a prediction from another cut,
    and one polygon label and one box-only label on a second image."""
    root = tmp_path_factory.mktemp("gallery-masks")
    for sub in ("images", "masks", "preds"):
        (root / sub).mkdir()
    grey = (transform.resize(data.coins(), (H, W), anti_aliasing=True) * 255).astype(np.uint8)
    truth = (grey > 110).astype(np.uint8)
    truth[40:46, 60:70] = 255
    Image.fromarray(np.stack([grey] * 3, -1)).save(root / "images/coins.png")
    Image.fromarray(np.stack([grey] * 3, -1)).save(root / "images/plain.png")
    Image.fromarray(truth, mode="L").save(root / "masks/coins.png")
    Image.fromarray((grey > 130).astype(np.uint8), mode="L").save(root / "preds/coins.png")
    (root / "classes.json").write_text(json.dumps(["background", "coin"]))
    con = qmdb.connect(root / "p.duckdb")
    import_dataset(con, "semantic", root, name="coins")
    import_predictions(con, "semantic", root / "preds", model="cut130", dataset="coins")
    plain = con.sql("SELECT image_id FROM images WHERE path = 'plain.png'").fetchall()[0][0]
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, polygon, source_id) VALUES "
                "(?, 'coin', 10, 10, 30, 20, [[10.0, 10.0, 40.0, 10.0, 40.0, 30.0]], 'poly'), "
                "(?, 'coin', 50, 50, 10, 10, NULL, 'box')", [plain, plain])
    con.close()
    return root, truth


@pytest.fixture
def con(project):
    connection = qmdb.connect(project[0] / "p.duckdb", read_only=True)
    yield connection
    connection.close()


def _xor_raster(rings: list[list[float]]) -> np.ndarray:
    """The even-odd fill of the rings (SVG's fill-rule), rasterized by pycocotools."""
    out = np.zeros((H, W), bool)
    for ring in rings:
        if len(ring) >= 6:
            out ^= api.decode(api.frPyObjects([ring], H, W)[0]).astype(bool)
    return out


def test_masks_become_rings_that_cover_their_pixels(project, con):
    _, truth = project
    card, = annotate(con, ["image_id"], [[1]], min_score=0.5)
    assert card["task"] == "semantic" and len(card["labels"]) == 2 and len(card["predictions"]) == 2
    inter = union = 0
    for entry in card["labels"]:
        assert "mask" not in entry and "polygon" not in entry and entry["rings"]
        want = truth == (1 if entry["class"] == "coin" else 0)
        got = _xor_raster(entry["rings"])
        inter, union = inter + (got & want).sum(), union + (got | want).sum()
    assert inter / union > 0.85
    holes = [e for e in card["labels"] if e["class"] == "background"][0]["rings"]
    assert len(holes) > 5  # the coins are holes of the background: traced, not filled over
    assert all(p["rings"] for p in card["predictions"])


def test_polygons_are_drawn_as_stored_and_boxes_stay_boxes(con):
    card, = annotate(con, ["image_id"], [[2]])
    rings = {e["id"]: e["rings"] for e in card["labels"]}
    assert sorted(map(str, rings.values())) == ["None", str([[10.0, 10.0, 40.0, 10.0, 40.0, 30.0]])]


def test_the_server_and_the_export_hand_the_rings_to_the_renderer(project, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    root, _ = project
    with qmdb.connect(root / "p.duckdb", read_only=True) as con:
        out = export_gallery(con, tmp_path / "g.html", sql="SELECT image_id FROM images ORDER BY image_id", progress=False)
    page = (tmp_path / "g.html").read_text()
    assert out["cards"] == 2 and '"rings":[[' in page and "ringPath" in page and "fill-rule" in page
    app = create_app(Settings(database=root / "p.duckdb"))
    with TestClient(app) as client:
        items = client.post("/gallery/items", json={"sql": "SELECT label_id FROM labels ORDER BY label_id"}).json()["items"]
        assert client.get("/gallery/static/gallery.css").text.count("svg .mask") >= 3
    app.state.qmdb.con.close()
    assert items[0]["focus_type"] == "label" and items[0]["labels"][0]["rings"]
