"""Files nobody in the project made: a decompression bomb, a folder named like an image, an
unidentifiable file. Each is one `errors` row and an unreadable image; the import completes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from qmdb.importers import import_dataset


def bomb_png(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A small PNG whose header declares width × height pixels (10,000,000,000 by default)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def _good(path: Path, value: int = 128) -> None:
    Image.fromarray(np.full((16, 16, 3), value, np.uint8)).save(path)


def _class_folders(root: Path) -> Path:
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        _good(root / cls / "a.png")
    bomb_png(root / "cat" / "bomb.png")
    (root / "dog" / "folder.jpg").mkdir()
    (root / "dog" / "junk.jpg").write_bytes(b"this is not an image at all")
    return root


def _errors(con) -> dict[str, str]:
    return dict(con.sql("SELECT i.path, e.message FROM errors e JOIN images i USING (image_id)").fetchall())


def test_folders_import_completes_with_bad_files_as_error_rows(project, tmp_path):
    root = _class_folders(tmp_path / "pets")
    report = import_dataset(project, "folders", root)
    assert report.images == 5 and report.errors == 3
    status = dict(project.sql("SELECT path, status FROM images").fetchall())
    assert status == {"cat/a.png": "ok", "dog/a.png": "ok", "cat/bomb.png": "unreadable",
                      "dog/folder.jpg": "unreadable", "dog/junk.jpg": "unreadable"}
    errors = _errors(project)
    assert errors["cat/bomb.png"].startswith("refused as a decompression bomb: ")
    assert "10000000000 pixels" in errors["cat/bomb.png"]
    assert errors["dog/folder.jpg"] == "is a folder, not an image file"
    assert errors["dog/junk.jpg"] == "not a readable image: unknown or corrupt image format"
    assert not any("BytesIO" in m for m in errors.values())
    labels = project.sql("SELECT i.path, l.class FROM labels l JOIN images i USING (image_id) ORDER BY 1").fetchall()
    assert labels[1] == ("cat/bomb.png", "cat") and labels[3] == ("dog/folder.jpg", "dog")


def test_table_import_completes_with_a_bomb_and_a_folder(project, tmp_path):
    root = _class_folders(tmp_path / "pets")
    table = tmp_path / "labels.csv"
    table.write_text("path,class\ncat/a.png,cat\ncat/bomb.png,cat\ndog/folder.jpg,dog\ndog/junk.jpg,dog\n")
    report = import_dataset(project, "table", table, root=root)
    assert report.images == 4 and report.errors == 3
    errors = _errors(project)
    assert errors["cat/bomb.png"].startswith("refused as a decompression bomb")
    assert errors["dog/folder.jpg"] == "is a folder, not an image file"
    summary = project.sql("SELECT images, broken_images FROM dataset_summary").fetchall()
    assert summary == [(4, 3)]


def test_a_class_folder_named_like_an_image_is_a_class(project, tmp_path):
    root = tmp_path / "odd"
    (root / "cat.jpg").mkdir(parents=True)
    (root / "dog").mkdir()
    _good(root / "cat.jpg" / "a.png")
    _good(root / "dog" / "b.png")
    report = import_dataset(project, "folders", root)
    assert report.errors == 0
    assert project.sql("SELECT class FROM labels ORDER BY 1").fetchall() == [("cat.jpg",), ("dog",)]
