"""What the gallery opens on (`GET /gallery/start`, `qmdb.gallery.opening`) and the keypoint
skeletons its cards carry (`points`, `edges`), in the server's items and the static export."""

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data, transform

import qmdb
from qmdb.gallery import annotate, export_gallery
from qmdb.gallery.opening import LABEL_ERROR_VIEWS, opening
from qmdb.importers import import_dataset, import_predictions

NAMES = ["head", "neck", "hip", "left_foot", "right_foot"]
SKELETON = [[1, 2], [2, 3], [3, 4], [3, 5]]          # 1-based, as COCO writes it
LABEL_POINTS = [[40, 20, 2, 40, 35, 2, 42, 60, 1, 0, 0, 0, 50, 90, 2],   # left foot not labelled
                [90, 15, 2, 92, 30, 0, 95, 55, 2, 88, 80, 2, 100, 82, 2]]  # neck hidden (v = 0)
PRED_POINTS = [41, 21, 0.9, 40, 36, 0.8, 43, 61, 0.7, 35, 88, 0.0, 51, 89, 0.6]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """One photo with two keypoint-labelled figures and one keypoint prediction (COCO keypoints)."""
    root = tmp_path_factory.mktemp("gallery-keypoints")
    (root / "images").mkdir()
    photo = (transform.resize(data.astronaut(), (100, 128), anti_aliasing=True) * 255).astype(np.uint8)
    Image.fromarray(photo).save(root / "images/a.png")
    annotations = [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [30 + 50 * i, 10, 30, 85],
                    "area": 30 * 85.0, "keypoints": k, "num_keypoints": sum(v > 0 for v in k[2::3])}
                   for i, k in enumerate(LABEL_POINTS)]
    (root / "keypoints.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": 128, "height": 100}],
        "categories": [{"id": 1, "name": "figure", "keypoints": NAMES, "skeleton": SKELETON}],
        "annotations": annotations}))
    (root / "results.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9,
                                                    "bbox": [30, 10, 30, 85], "keypoints": PRED_POINTS}]))
    db = root / "p.duckdb"
    with qmdb.connect(db) as con:
        import_dataset(con, "coco", root / "keypoints.json", root=root / "images", name="people")
        import_predictions(con, "coco", root / "results.json", model="pose", dataset="people")
    return root, db


def _expected(keypoints, skeleton):
    """The visible points and the edges between them, by the keypoints' own numbering."""
    triplets = [keypoints[i:i + 3] for i in range(0, len(keypoints), 3)]
    shown = [k for k, t in enumerate(triplets) if t[2] > 0]
    points = [[float(triplets[k][0]), float(triplets[k][1])] for k in shown]
    edges = [[shown.index(a - 1), shown.index(b - 1)] for a, b in skeleton if a - 1 in shown and b - 1 in shown]
    return points, edges


def test_cards_carry_the_visible_keypoints_and_the_skeleton_between_them(project):
    _, db = project
    with qmdb.connect(db, read_only=True) as con:
        stored = con.sql("SELECT label_id, keypoints FROM labels ORDER BY label_id").fetchall()
        skeleton = con.sql("SELECT skeleton FROM classes WHERE class = 'figure'").fetchall()[0][0]
        predicted = con.sql("SELECT keypoints FROM predictions").fetchall()[0][0]
        card, = annotate(con, ["label_id"], [[stored[1][0]]])
    assert skeleton == SKELETON and [k for _, k in stored] == LABEL_POINTS
    for entry, (_, keypoints) in zip(card["labels"], stored):
        assert (entry["points"], entry["edges"]) == _expected(keypoints, skeleton)
        assert "keypoints" not in entry and "skeleton" not in entry
    assert len(card["labels"][0]["points"]) == 4 and card["labels"][0]["edges"] == [[0, 1], [1, 2], [2, 3]]
    assert card["labels"][1]["edges"] == [[1, 2], [1, 3]]          # the hidden neck takes its two bones
    pred, = card["predictions"]
    assert (pred["points"], pred["edges"]) == _expected(predicted, skeleton) and len(pred["points"]) == 4


def test_the_export_and_the_server_hand_the_skeletons_to_the_page(project, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    _, db = project
    with qmdb.connect(db, read_only=True) as con:
        export_gallery(con, tmp_path / "g.html", sql="SELECT label_id FROM labels ORDER BY label_id", progress=False)
        want = annotate(con, ["label_id"], [[1]])[0]["labels"][0]
    page = (tmp_path / "g.html").read_text()
    assert json.dumps(want["points"], separators=(",", ":")) in page and '"edges":[[0,1]' in page
    assert "svg:circle" in page and "joint" in page
    app = create_app(Settings(database=db))
    with TestClient(app) as client:
        items = client.post("/gallery/items", json={"sql": "SELECT label_id FROM labels ORDER BY label_id"}).json()["items"]
        start = client.get("/gallery/start").json()
        assert "svg .joint" in client.get("/gallery/static/gallery.css").text
    app.state.qmdb.con.close()
    assert items[0]["labels"][0]["points"] == want["points"] and items[0]["labels"][0]["edges"] == want["edges"]
    # no label errors here (one figure, no classifier): the page opens on the images query
    assert start["tab"] == "gallery" and start["view"] is None
    assert start["summary"]["rows"] == [["people", "coco", start["summary"]["rows"][0][2], 1, 0, 2, 1, 0, 0]]


def test_a_stored_map_opens_the_map_tab(project, tmp_path):
    _, db = project
    copy = tmp_path / "m.duckdb"
    copy.write_bytes(db.read_bytes())
    with qmdb.connect(copy) as con:
        assert opening(con)["tab"] == "gallery"
        con.execute("INSERT INTO embedding_map SELECT 'm', 'image', image_id, 0, 0, 'pca' FROM images")
        assert opening(con)["tab"] == "map"


def test_the_demo_opens_on_its_worst_label_errors(demo_db, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    copy = tmp_path / "demo.duckdb"  # other tests may hold the shared file open with another configuration
    copy.write_bytes(demo_db.read_bytes())
    demo_db = copy
    with qmdb.connect(demo_db, read_only=True) as con:
        counts = {name: con.sql(f"SELECT count(*) FROM {name}()").fetchall()[0][0] for name in LABEL_ERROR_VIEWS[:2]}
        summary = con.sql("SELECT * FROM dataset_summary").fetchall()
    app = create_app(Settings(database=demo_db))
    with TestClient(app) as client:
        start = client.get("/gallery/start").json()
    app.state.qmdb.con.close()
    first = next(name for name in LABEL_ERROR_VIEWS if counts.get(name))
    assert start["tab"] == "gallery" and start["view"] == first
    assert [tuple(r) for r in start["summary"]["rows"]] == summary and len(summary) == 2
