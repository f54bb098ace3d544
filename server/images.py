"""Image files, thumbnails and label crops, by id: paths come from `images` and `datasets`
(the dataset root joined with the image's relative path), never from the client, and a
path that leaves its dataset root is refused."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import cv2
import duckdb
import numpy as np

from .errors import ApiError

JPEG_QUALITY = 90


def image_path(cursor: duckdb.DuckDBPyConnection, database: Path, image_id: int) -> Path:
    """The file of one image, checked to lie under its dataset's root."""
    rows = cursor.execute(
        "SELECT d.root, i.path FROM images i JOIN datasets d ON d.name = i.dataset WHERE i.image_id = ?", [image_id]
    ).fetchall()
    if not rows:
        raise ApiError(404, f"no image with image_id {image_id}")
    root, relative = rows[0]
    base = Path(root)
    if not base.is_absolute():
        base = database.resolve().parent / base
    base = base.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise ApiError(403, f"image {image_id}: its path leaves the dataset root; refused")
    if not path.is_file():
        raise ApiError(404, f"image {image_id}: file {relative} is missing under the dataset root")
    return path


def media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _decode(path: Path, image_id: int) -> np.ndarray:
    pixels = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ApiError(422, f"image {image_id}: {path.name} cannot be decoded")
    return pixels


def _fit(pixels: np.ndarray, size: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return pixels
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, shape, interpolation=cv2.INTER_AREA)


def _jpeg(pixels: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ApiError(500, "JPEG encoding failed")
    return data.tobytes()


def thumbnail(path: Path, image_id: int, size: int) -> bytes:
    """A JPEG whose longest side is at most `size` pixels (never upscaled)."""
    return _jpeg(_fit(_decode(path, image_id), size))


def crop(cursor: duckdb.DuckDBPyConnection, database: Path, label_id: int, margin: float, size: int | None) -> bytes:
    """A label's box plus `margin` (a fraction of the box's width and height) on each side, as JPEG."""
    rows = cursor.execute("SELECT image_id, x, y, w, h FROM labels WHERE label_id = ?", [label_id]).fetchall()
    if not rows:
        raise ApiError(404, f"no label with label_id {label_id}")
    image_id, x, y, w, h = rows[0]
    if None in (x, y, w, h):
        raise ApiError(400, f"label {label_id} has no box (an image-level label); fetch /images/{image_id}")
    pixels = _decode(image_path(cursor, database, image_id), image_id)
    height, width = pixels.shape[:2]
    left, top = int(np.floor(max(0.0, x - margin * w))), int(np.floor(max(0.0, y - margin * h)))
    right, bottom = int(np.ceil(min(width, x + w + margin * w))), int(np.ceil(min(height, y + h + margin * h)))
    if right <= left or bottom <= top:
        raise ApiError(422, f"label {label_id}: its box lies outside image {image_id}")
    part = pixels[top:bottom, left:right]
    return _jpeg(_fit(part, size) if size else part)
