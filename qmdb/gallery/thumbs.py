"""Thumbnails for the static gallery: JPEG data URIs, longest side at most `size` pixels."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import duckdb
import numpy as np

JPEG_QUALITY = 85


def database_folder(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder of the connection's database file (relative dataset roots start there)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]).resolve().parent if rows and rows[0][0] else Path.cwd()


def image_files(con: duckdb.DuckDBPyConnection, image_ids: list[int]) -> dict[int, Path]:
    """The file of each image id (its dataset's root joined with its relative path)."""
    base = database_folder(con)
    rows = con.execute("SELECT i.image_id, d.root, i.path FROM images i JOIN datasets d ON d.name = i.dataset "
                       "WHERE list_contains($ids, i.image_id)", {"ids": image_ids}).fetchall()
    return {image_id: (Path(root) if Path(root).is_absolute() else base / root) / path for image_id, root, path in rows}


def data_uri(path: Path, size: int) -> str | None:
    """The image as a `data:image/jpeg;base64,...` URI, or None when it cannot be read or decoded."""
    try:
        pixels = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    except (OSError, ValueError, cv2.error):  # missing, empty or undecodable: the card says so
        return None
    if pixels is None:
        return None
    height, width = pixels.shape[:2]
    scale = size / max(height, width)
    if scale < 1:
        pixels = cv2.resize(pixels, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode() if ok else None
