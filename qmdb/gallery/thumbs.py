"""Thumbnails for the static gallery: JPEG data URIs, longest side at most `size` pixels, read by the
one image reader (`qmdb.images`: EXIF orientation ignored, so the boxes drawn on a card fit its pixels)."""

from __future__ import annotations

import base64
from pathlib import Path

import duckdb

from .. import images

JPEG_QUALITY = 85


def image_files(con: duckdb.DuckDBPyConnection, image_ids: list[int]) -> dict[int, str]:
    """Where each image id is read from, by the path rule (`qmdb.uris.location`)."""
    return {image_id: file for image_id, (file, _) in images.files(con, image_ids).items()}


def data_uri(path: str | Path, size: int) -> str | None:
    """The image as a `data:image/jpeg;base64,...` URI, or None when it cannot be read or decoded."""
    try:
        pixels = images.fit(images.read_bgr(path), size)
        data = images.jpeg(pixels, JPEG_QUALITY)
    except (images.DecodeError, ValueError):  # missing, empty or undecodable: the card says so
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()
