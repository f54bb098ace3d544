"""The one image reader and the one path rule (`qmdb.images`, `qmdb.uris.location`, SQL `image_location`).

EXIF rule: orientation is ignored everywhere, so a box drawn on the stored pixels (the width and height
an importer records) crops the same region in the metrics, the embeddings, the server and the gallery.
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest

import qmdb
from qmdb import images
from qmdb.embeddings.decode import crop, read_rgb
from qmdb.gallery.thumbs import data_uri, image_files
from qmdb.uris import location

WIDTH, HEIGHT = 120, 80  # stored (landscape); EXIF orientation 6 would show it portrait
QUADRANTS = {"top_left": (255, 0, 0), "top_right": (0, 255, 0), "bottom_left": (0, 0, 255),
             "bottom_right": (255, 255, 255)}  # RGB
TOP_LEFT = (0, 0, WIDTH // 2, HEIGHT // 2)  # the red quadrant, as a box (x, y, w, h)


def _rotated_jpeg(path: Path) -> None:
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    h, w = HEIGHT // 2, WIDTH // 2
    rgb[:h, :w], rgb[:h, w:] = QUADRANTS["top_left"], QUADRANTS["top_right"]
    rgb[h:, :w], rgb[h:, w:] = QUADRANTS["bottom_left"], QUADRANTS["bottom_right"]
    exif = PIL.Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    PIL.Image.fromarray(rgb).save(path, quality=95, exif=exif)


def _colour(rgb: np.ndarray) -> str:
    """The quadrant colour nearest to the mean of these RGB pixels."""
    mean = rgb.reshape(-1, 3).mean(axis=0)
    return min(QUADRANTS, key=lambda name: np.abs(mean - QUADRANTS[name]).sum())


def _jpeg_rgb(data: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory) -> dict:
    """A project whose one image is an EXIF-rotated JPEG, imported by the folders importer, with a box on
    its top-left (red) quadrant."""
    base = tmp_path_factory.mktemp("exif")
    (base / "photos" / "thing").mkdir(parents=True)
    file = base / "photos" / "thing" / "rotated.jpg"
    _rotated_jpeg(file)
    db = base / "project.duckdb"
    con = qmdb.connect(db)
    qmdb.import_dataset(con, "folders", base / "photos", name="photos")
    (image_id, width, height), = con.execute("SELECT image_id, width, height FROM images").fetchall()
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, source_id) VALUES (?, 'red', ?, ?, ?, ?, 'box')",
                [image_id, *TOP_LEFT])
    label_id = con.execute("SELECT label_id FROM labels WHERE source_id = 'box'").fetchall()[0][0]
    con.close()
    assert (width, height) == (WIDTH, HEIGHT)  # the importer stores the file's own size, as boxes do
    assert PIL.Image.open(file).getexif()[0x0112] == 6
    return {"db": db, "file": file, "image_id": image_id, "label_id": label_id}


def test_embeddings_read_stored_pixels_and_crop_the_boxed_region(rotated):
    rgb, why = read_rgb(rotated["file"])
    assert why is None and rgb.shape == (HEIGHT, WIDTH, 3)
    assert _colour(crop(rgb, *TOP_LEFT)) == "top_left"


def test_server_crop_and_thumbnail_follow_the_stored_pixels(rotated):
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    with TestClient(create_app(Settings(database=rotated["db"]))) as client:
        response = client.get(f"/labels/{rotated['label_id']}/crop", params={"margin": 0})
        assert response.status_code == 200, response.text
        part = _jpeg_rgb(response.content)
        assert part.shape[:2] == (HEIGHT // 2, WIDTH // 2) and _colour(part) == "top_left"
        response = client.get(f"/images/{rotated['image_id']}/thumbnail", params={"size": 60})
        thumb = _jpeg_rgb(response.content)
        assert thumb.shape[:2] == (40, 60) and _colour(thumb[:20, :30]) == "top_left"


def test_gallery_thumbnails_follow_the_stored_pixels(rotated):
    uri = data_uri(rotated["file"], 60)
    thumb = _jpeg_rgb(base64.b64decode(uri.split(",", 1)[1]))
    assert thumb.shape[:2] == (40, 60) and _colour(thumb[:20, :30]) == "top_left"


def test_metrics_measure_the_stored_pixels(rotated):
    con = qmdb.connect(rotated["db"], read_only=True)
    try:
        assert con.execute("SELECT width(image_id), height(image_id) FROM images").fetchall() == [(WIDTH, HEIGHT)]
        (value,), = con.execute("SELECT box_brightness(label_id) FROM labels WHERE x IS NOT NULL").fetchall()
    finally:
        con.close()
    red_grey = 0.299 * 255 / 255  # BT.601 luminance of pure red
    assert value == pytest.approx(red_grey, abs=0.02)


def test_one_decoder_ignores_orientation(rotated):
    data = rotated["file"].read_bytes()
    assert images.decode(data).shape[:2] == (HEIGHT, WIDTH)
    assert images.read_bgr(rotated["file"]).shape[:2] == (HEIGHT, WIDTH)
    with pytest.raises(images.DecodeError, match="empty"):
        images.decode(b"")


# --- the path rule -----------------------------------------------------------------------------

CASES = [  # (root, path, folder) -> file
    ("photos", "a.jpg", "/projects/p", "/projects/p/photos/a.jpg"),            # relative root: the db's folder
    ("photos/", "sub/a.jpg", "/projects/p", "/projects/p/photos/sub/a.jpg"),
    ("", "a.jpg", "/projects/p", "/projects/p/a.jpg"),                        # empty root: the db's folder
    ("/data/set", "a.jpg", "/projects/p", "/data/set/a.jpg"),                 # absolute root
    ("/data/set/", "a.jpg", None, "/data/set/a.jpg"),
    ("/", "a.jpg", None, "/a.jpg"),
    ("s3://bucket/set/", "a.jpg", "/projects/p", "s3://bucket/set/a.jpg"),    # URI root
    ("/data/set", "gs://bucket/a.jpg", "/projects/p", "gs://bucket/a.jpg"),   # URI path: itself
    ("photos", "/elsewhere/a.jpg", "/projects/p", "/elsewhere/a.jpg"),        # absolute path: itself
    ("", "/elsewhere/a.jpg", None, "/elsewhere/a.jpg"),
    ("photos", "a.jpg", None, "photos/a.jpg"),                                # in memory: the working dir
    ("/data/set", "../other/a.jpg", None, "/data/set/../other/a.jpg"),
]


@pytest.mark.parametrize(("root", "path", "folder", "expected"), CASES)
def test_location(root, path, folder, expected):
    assert location(root, path, folder) == expected


def test_sql_image_location_is_the_same_rule(tmp_path):
    db_folder = tmp_path / "projects" / "p"
    db_folder.mkdir(parents=True)
    con = qmdb.connect(db_folder / "project.duckdb")
    memory = qmdb.connect()
    try:
        folder = images.database_folder(con)
        assert folder == str(db_folder) and images.database_folder(memory) is None
        for root, path, _, _ in CASES:
            for connection, where in ((con, folder), (memory, None)):
                (sql,), = connection.execute("SELECT image_location(?, ?)", [root, path]).fetchall()
                assert sql == location(root, path, where), (root, path, where)
        assert con.execute("SELECT image_location(NULL, 'a.jpg'), image_location('r', NULL)").fetchall() == \
            [(None, None)]
    finally:
        con.close()
        memory.close()


def test_every_caller_agrees_on_a_relative_root(tmp_path, monkeypatch):
    """A root relative to the database's folder: image_file, metrics_images.file, the metric functions, the
    runner, the gallery and the server all read the same file, whatever the working directory."""
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    project = tmp_path / "project"
    (project / "photos").mkdir(parents=True)
    cv2.imwrite(str(project / "photos" / "grey.png"), np.full((30, 40, 3), 128, np.uint8))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    db = project / "project.duckdb"
    con = qmdb.connect(db)
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('photos', 'photos', 'folders')")
    con.execute("INSERT INTO images (dataset, path) VALUES ('photos', 'grey.png')")
    expected = str(project / "photos" / "grey.png")
    (image_id, by_macro), = con.execute("SELECT image_id, image_file(image_id) FROM images").fetchall()
    assert by_macro == expected
    assert con.execute("SELECT file FROM metrics_images").fetchall() == [(expected,)]
    assert images.files(con, [image_id]) == {image_id: (expected, str(project / "photos") + "/")}
    assert image_files(con, [image_id]) == {image_id: expected}
    assert con.execute("SELECT brightness(image_id) FROM images").fetchall() == [(pytest.approx(128 / 255),)]
    qmdb.compute_metrics(con, workers=0, progress=False)
    assert con.execute("SELECT brightness, width FROM image_metrics").fetchall() == [(pytest.approx(128 / 255), 40)]
    assert con.execute("SELECT count(*) FROM errors").fetchall() == [(0,)]
    con.close()
    with TestClient(create_app(Settings(database=db))) as client:
        response = client.get(f"/images/{image_id}")
        assert response.status_code == 200 and response.content == Path(expected).read_bytes()
        response = client.get("/query", params={"sql": "SELECT brightness(image_id) AS b FROM images"})
        assert response.status_code == 200 and response.json()["rows"] == [[pytest.approx(128 / 255)]]


def test_containment(tmp_path):
    assert images.contained(str(tmp_path / "a" / "b.jpg"), str(tmp_path / "a") + "/")
    assert not images.contained(str(tmp_path / "a" / ".." / "b.jpg"), str(tmp_path / "a") + "/")
    assert images.contained("s3://bucket/set/a.jpg", "s3://bucket/set/")
    assert not images.contained("s3://bucket/set/../x.jpg", "s3://bucket/set/")
    assert not images.contained("s3://bucket/other/x.jpg", "s3://bucket/set/")
