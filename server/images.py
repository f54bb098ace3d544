"""Image files, thumbnails and label crops, by id: paths come from `images` and `datasets` by the
one path rule (`qmdb.uris.location`), never from the client, and a file that leaves its dataset
root is refused. Pixels come from the one image reader (`qmdb.images`: EXIF orientation ignored,
so a label's box crops the region it was drawn on)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import duckdb
import numpy as np

from qmdb import images

from .errors import ApiError

JPEG_QUALITY = 90


def image_path(cursor: duckdb.DuckDBPyConnection, database: Path, image_id: int) -> Path:
    """The file of one image, checked to lie under its dataset's root. (`database` is the served
    file; relative roots start at its folder as DuckDB names it.)"""
    found = images.files(cursor, [image_id])
    if image_id not in found:
        raise ApiError(404, f"no image with image_id {image_id}")
    file, base = found[image_id]
    if "://" in file or not images.contained(file, base):
        raise ApiError(403, f"image {image_id}: its path leaves the dataset root; refused")
    path = Path(file).resolve()
    if not path.is_file():
        raise ApiError(404, f"image {image_id}: file {Path(file).name} is missing under the dataset root")
    return path


def media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _decode(path: Path, image_id: int) -> np.ndarray:
    try:
        return images.read_bgr(path)
    except images.DecodeError:
        raise ApiError(422, f"image {image_id}: {path.name} cannot be decoded") from None


def _jpeg(pixels: np.ndarray) -> bytes:
    try:
        return images.jpeg(pixels, JPEG_QUALITY)
    except ValueError:
        raise ApiError(500, "JPEG encoding failed") from None


def thumbnail(path: Path, image_id: int, size: int) -> bytes:
    """A JPEG whose longest side is at most `size` pixels (never upscaled)."""
    return _jpeg(images.fit(_decode(path, image_id), size))


def crop(cursor: duckdb.DuckDBPyConnection, database: Path, label_id: int, margin: float, size: int | None) -> bytes:
    """A label's box plus `margin` (a fraction of the box's width and height) on each side, as JPEG."""
    rows = cursor.execute("SELECT image_id, x, y, w, h FROM labels WHERE label_id = ?", [label_id]).fetchall()
    if not rows:
        raise ApiError(404, f"no label with label_id {label_id}")
    image_id, x, y, w, h = rows[0]
    if None in (x, y, w, h):
        raise ApiError(400, f"label {label_id} has no box (an image-level label); fetch /images/{image_id}")
    pixels = _decode(image_path(cursor, database, image_id), image_id)
    region = images.box_region(pixels.shape, x, y, w, h, margin)
    if region is None:
        raise ApiError(422, f"label {label_id}: its box lies outside image {image_id}")
    top, bottom, left, right = region
    part = pixels[top:bottom, left:right]
    return _jpeg(images.fit(part, size) if size else part)
