"""The embedding pass decodes at the scale its model declares and streams in chunks."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pyarrow as pa
import pytest

import qmdb
from qmdb import images
from qmdb.embeddings import BuiltinEmbedder
from qmdb.embeddings.builtin import describe

from .conftest import photographs


def camera_jpegs(folder, sizes=((1920, 1080), (1600, 1200), (1280, 720), (640, 480), (100, 70))):
    """The bundled photographs resized to camera sizes and written as JPEG (quality 90): the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, photo in enumerate(photographs()):
        size = sizes[k % len(sizes)]
        path = folder / f"{k:03d}.jpg"
        bgr = cv2.resize(cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def test_a_jpeg_is_decoded_as_small_as_keeps_both_sides_at_the_size_asked(tmp_path):
    paths = camera_jpegs(tmp_path)
    for path in paths:
        full = images.read_rgb(path)
        small = images.read_rgb(path, 64)
        height, width = full.shape[:2]
        scale = images.shrink_for((width, height), 64)
        assert small.shape[:2] == (-(-height // scale), -(-width // scale))
        assert min(small.shape[:2]) >= min(64, height, width)
        if min(height, width) >= 128:
            assert scale >= 2  # 1080p → 1/8 (135 px), 640×480 → 1/4 (120 px)
    png = tmp_path / "p.png"
    cv2.imwrite(str(png), np.zeros((600, 800, 3), np.uint8))
    assert images.read_rgb(png, 64).shape == (600, 800, 3)  # only JPEGs are DCT-scaled


def test_dct_scaled_vectors_stay_within_cosine_0_99_of_the_full_decode(tmp_path):
    paths = camera_jpegs(tmp_path)
    full = describe([images.read_rgb(p) for p in paths])
    reduced = describe([images.read_rgb(p, BuiltinEmbedder.input_size) for p in paths])
    cosine = (full * reduced).sum(axis=1)
    assert cosine.min() >= 0.99, cosine


def test_prepared_images_give_the_same_vectors():
    embedder = BuiltinEmbedder()
    photos = photographs()
    prepared = [embedder.prepare(p) for p in photos]
    assert all(p.shape == (64, 64, 3) for p in prepared)
    np.testing.assert_array_equal(embedder.embed_images(prepared), embedder.embed_images(photos))


def add_jpegs(con, name, paths) -> None:
    con.execute("INSERT INTO datasets (name, root, format) VALUES (?, ?, 'folders')", [name, str(paths[0].parent)])
    con.register("new_images", pa.table({
        "path": [p.name for p in paths],
        "sha256": [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]}))
    con.execute("INSERT INTO images (dataset, path, sha256) SELECT ?, path, sha256 FROM new_images", [name])


class Recording(BuiltinEmbedder):
    """The built-in model, remembering the shapes it was given per batch (one a chunk, in the main thread)."""

    embed_in_workers = False

    def __init__(self):
        self.batches = []

    def embed_images(self, pixels):
        self.batches.append([p.shape for p in pixels])
        return super().embed_images(pixels)


def test_the_run_streams_in_chunks_of_prepared_images_and_writes_what_a_full_decode_would(tmp_path):
    paths = camera_jpegs(tmp_path / "photos")
    con = qmdb.connect(tmp_path / "p.duckdb")
    add_jpegs(con, "photos", paths)
    model = Recording()
    report = qmdb.embed(con, model, chunk_size=3, progress=False)
    assert report.written["image"] == len(paths)
    assert [len(b) for b in model.batches] == [3] * (len(paths) // 3) + ([len(paths) % 3] if len(paths) % 3 else [])
    assert {s for b in model.batches for s in b} == {(64, 64, 3)}  # the decoded photos never wait for the model
    assert con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'qmdb_embed_todo'").fetchall() == [(0,)]
    ids, stored = zip(*con.sql("SELECT e.item_id, e.vector FROM embeddings e JOIN images i ON i.image_id = e.item_id "
                               "ORDER BY i.path").fetchall())
    full = describe([images.read_rgb(p) for p in sorted(paths)])
    assert ((np.array(stored, np.float32) * full).sum(axis=1)).min() >= 0.99
    con.close()


def test_boxes_are_cropped_from_the_full_size_decode(tmp_path):
    paths = camera_jpegs(tmp_path / "photos", sizes=((1920, 1080),))[:2]
    con = qmdb.connect(tmp_path / "p.duckdb")
    add_jpegs(con, "photos", paths)
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, source_id) SELECT image_id, 'thing', 100, 200, 300, 150, 'b1' "
                "FROM images WHERE path = ?", [paths[0].name])
    model = Recording()
    qmdb.embed(con, model, labels=True, progress=False)
    crop = images.read_rgb(paths[0])[200:350, 100:400]
    vector = np.array(con.sql("SELECT vector FROM embeddings WHERE item_type = 'label'").fetchall()[0][0], np.float32)
    np.testing.assert_allclose(vector, describe([crop])[0], atol=1e-6)
    con.close()


@pytest.mark.parametrize("size", [(1920, 1080), (64, 600)])
def test_shrink_for_never_goes_below_the_size_asked(size):
    scale = images.shrink_for(size, 64)
    assert min(size) // scale >= 64 or scale == 1
    assert scale == 8 or min(size) // (2 * scale) < 64
