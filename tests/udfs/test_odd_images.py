"""A corpus of odd and broken files, imported, measured and embedded end to end: every good file gets
every metric and a vector, every bad one is an `errors` row, and the runs complete."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import qmdb
from qmdb.importers import import_dataset
from qmdb.udfs import registry


def _bomb_png() -> bytes:
    """A small PNG whose header declares 100,000 × 100,000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _photo(size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 255, size, dtype=np.float64)
    rgb = np.stack([np.add.outer(ramp, ramp) / 2, np.add.outer(ramp, -ramp) / 2 + 128,
                    np.full((size, size), 90.0)], axis=-1)
    return np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)


def good_files() -> dict[str, bytes]:
    photo = _photo()
    files = {}
    for n in (1, 2, 3):
        files[f"tiny_{n}x{n}.png"] = _save(Image.fromarray(photo[:n, :n]), "PNG")
        files[f"tiny_grey_{n}x{n}.png"] = _save(Image.fromarray(np.full((n, n), 120, np.uint8)), "PNG")
    files["one_row.png"] = _save(Image.fromarray(photo[:1]), "PNG")
    files["one_column.png"] = _save(Image.fromarray(photo[:, :1]), "PNG")
    files["grey16.png"] = _save(Image.fromarray((photo[..., 0].astype(np.uint16) * 257)), "PNG")
    ok, data = cv2.imencode(".png", photo.astype(np.uint16) * 257)  # Pillow writes no 16-bit colour PNG
    assert ok
    files["rgb16.png"] = data.tobytes()
    files["cmyk.jpg"] = _save(Image.fromarray(photo).convert("CMYK"), "JPEG")
    files["palette.png"] = _save(Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE), "PNG")
    files["grey_alpha.png"] = _save(Image.fromarray(photo).convert("LA"), "PNG")
    files["rgba.png"] = _save(Image.fromarray(photo).convert("RGBA"), "PNG")
    files["bilevel.png"] = _save(Image.fromarray(photo).convert("1"), "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    files["exif_rotated.jpg"] = _save(Image.fromarray(photo[:, :30]), "JPEG", exif=exif)
    files["grey.tif"] = _save(Image.fromarray(photo[..., 1]), "TIFF")
    files["photo.webp"] = _save(Image.fromarray(photo), "WEBP")
    return files


BAD = {
    "bomb.png": lambda: _bomb_png(),
    "zero_byte.jpg": lambda: b"",
    "text.png": lambda: b"not an image, a log line\n" * 10,
    "truncated.jpg": lambda: good_files()["cmyk.jpg"][:400],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("odd")
    (root / "odd").mkdir()
    for name, data in good_files().items():
        (root / "odd" / name).write_bytes(data)
    for name, make in BAD.items():
        (root / "odd" / name).write_bytes(make())
    (root / "odd" / "folder.jpg").mkdir()
    return root


def test_every_good_file_is_measured_and_every_bad_one_is_an_error_row(corpus, tmp_path):
    con = qmdb.connect(tmp_path / "odd.duckdb")
    report = import_dataset(con, "folders", corpus, name="odd")
    good = {f"odd/{n}" for n in good_files()}
    bad = {f"odd/{n}" for n in BAD} | {"odd/folder.jpg"}
    assert report.images == len(good) + len(bad)
    status = dict(con.sql("SELECT path, status FROM images").fetchall())
    assert {p for p, s in status.items() if s != "ok"} == bad - {"odd/truncated.jpg"}  # its header reads
    sizes = dict(con.sql("SELECT path, [width, height] FROM images").fetchall())
    assert sizes["odd/tiny_1x1.png"] == [1, 1] and sizes["odd/exif_rotated.jpg"] == [30, 48]  # stored size

    qmdb.compute_metrics(con, workers=0, progress=False)
    names = [m.name for m in registry.metrics("image")]
    rows = con.sql(f"SELECT path, {', '.join(names)} FROM metrics_images").to_arrow_table().to_pylist()
    for row in rows:
        if row["path"] in good:
            # noise needs interior pixels (3×3 or more), blurriness (and is_blurry) neighbour differences: NULL by definition
            undefined = {"noise", "blurriness", "is_blurry"} if min(sizes[row["path"]]) < 3 or "grey_" in row["path"] else set()
            assert [n for n in names if row[n] is None and n not in undefined] == [], row["path"]
            if row["path"] == "odd/tiny_3x3.png":
                assert row["noise"] is not None and row["blurriness"] is not None
    errors = con.sql("SELECT i.path, e.stage, e.message FROM errors e JOIN images i USING (image_id)").fetchall()
    assert {p for p, _, _ in errors} == bad, errors
    assert not any("BytesIO" in m or "Traceback" in m for _, _, m in errors)
    grey = dict(con.sql("SELECT path, is_grayscale FROM metrics_images").fetchall())
    assert grey["odd/tiny_grey_1x1.png"] and grey["odd/tiny_grey_3x3.png"] and grey["odd/grey16.png"]
    assert not grey["odd/rgba.png"] and not grey["odd/cmyk.jpg"]
    broken = con.sql("SELECT path FROM select_broken").fetchall()
    assert {p for (p,) in broken} == bad
    assert con.sql("SELECT broken_images FROM dataset_summary").fetchall() == [(len(bad),)]

    embedded = qmdb.embed(con, workers=1, progress=False)
    assert embedded.errors == 1  # truncated.jpg: the files the import found unreadable are not read again
    vectors = {p for (p,) in con.sql(
        "SELECT i.path FROM embeddings e JOIN images i ON i.image_id = e.item_id WHERE e.item_type = 'image'").fetchall()}
    assert vectors == good
    con.close()
