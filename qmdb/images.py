"""The one image reader: every reader of pixels (metrics, embeddings, server, gallery) decodes here.

**EXIF rule.** EXIF orientation is ignored everywhere
(`cv2.IMREAD_IGNORE_ORIENTATION`): the pixels are the file's stored pixels,
whose width and height are the ones an importer records (the image header's
size) and the ones every box refers to. A photo whose camera wrote
"orientation 6" is therefore shown, measured, embedded and cropped lying on
its side, and a box drawn on the stored pixels crops the same region in every
reader. Bytes come from `qmdb.uris.read_bytes` (a path or an object-store URI).

**Path rule.** Where an image is read from is `qmdb.uris.location(root, path,
folder)` in Python and the macro `image_location(root, path)` in SQL (the
`metrics` migrations of `qmdb.udfs.tables`); `files(con, image_ids)` applies
it to image ids.

>>> import cv2, numpy as np
>>> ok, png = cv2.imencode(".png", np.zeros((2, 3, 3), np.uint8))
>>> decode(png.ravel()).shape
(2, 3, 3)
>>> box_region((10, 20), 15, 5, 10, 10)
(5, 10, 15, 20)
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .uris import UnreadableError, location, read_bytes

if TYPE_CHECKING:  # DuckDB and Pillow are not imported by a metric worker that reads JPEGs and PNGs
    import duckdb

FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class DecodeError(Exception):
    """A file that is not a readable image: missing, empty, truncated, corrupt or not an image."""


def check_bytes(data: bytes | np.ndarray) -> None:
    """Refuse input that OpenCV would decode silently into a wrong image: empty or truncated JPEG."""
    view = memoryview(data).cast("B")
    if len(view) == 0:
        raise DecodeError("empty file (0 bytes)")
    if view[:3] == b"\xff\xd8\xff" and view[-2:] != b"\xff\xd9":
        whole = bytes(view)
        # Entropy-coded data cannot contain FF D9, so a complete JPEG has its end-of-image
        # marker after the start of its last scan (an EXIF thumbnail's own EOI comes before).
        if whole.rfind(b"\xff\xd9") < whole.rfind(b"\xff\xda"):
            raise DecodeError("truncated JPEG: no end-of-image marker after the last scan")


def decode(data: bytes | np.ndarray, scale: int = 1) -> np.ndarray:
    """File bytes as H×W×3 uint8 BGR, EXIF orientation ignored, at 1/`scale` of the size (1, 2, 4 or 8),
    or `DecodeError` saying why not."""
    check_bytes(data)
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    flags = FLAGS if scale == 1 else REDUCED[scale] | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        bgr = cv2.imdecode(buffer, flags)
    except cv2.error as error:
        raise DecodeError(f"cannot decode: {str(error).strip().splitlines()[-1]}") from None
    if bgr is None:
        raise DecodeError("cannot decode: not an image, or a corrupt or unsupported one")
    return bgr


_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}
_NOT_FRAMES = {0xC4, 0xC8, 0xCC}  # DHT, JPG, DAC share the SOFn range without being frames


def jpeg_size(view: memoryview) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header (SOFn), walking the marker segments before it."""
    i, n = 2, len(view)
    while i + 9 <= n:
        if view[i] != 0xFF:
            return None
        marker = view[i + 1]
        if marker == 0xFF or marker in _STANDALONE:
            i += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in _NOT_FRAMES:
            height, width = (view[i + 5] << 8) | view[i + 6], (view[i + 7] << 8) | view[i + 8]
            return (width, height) if width and height else None
        if marker == 0xDA:
            return None
        i += 2 + ((view[i + 2] << 8) | view[i + 3])
    return None


def file_size(buffer: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from the file's header (JPEG and PNG read here, other formats by Pillow), or None
    where it cannot be read."""
    view = memoryview(buffer).cast("B")
    if view[:3] == b"\xff\xd8\xff":
        return jpeg_size(view)
    if view[:8] == b"\x89PNG\r\n\x1a\n" and view[12:16] == b"IHDR" and len(view) >= 24:
        return int.from_bytes(view[16:20], "big"), int.from_bytes(view[20:24], "big")
    import PIL.Image

    try:
        with PIL.Image.open(io.BytesIO(buffer)) as header:
            return header.size
    except Exception:  # noqa: BLE001 - any header Pillow cannot parse: decode at full size instead
        return None


def shrink_for(size: tuple[int, int], shortest: int) -> int:
    """The largest DCT scale denominator (1, 2, 4 or 8) that keeps both sides of an image of this
    (width, height) at or above `shortest` pixels.

    >>> shrink_for((1920, 1080), 64), shrink_for((1920, 1080), 224), shrink_for((100, 60), 64)
    (8, 4, 1)
    """
    return max([1] + [s for s in REDUCED if min(size) // s >= shortest])


def decode_at_least(data: bytes | np.ndarray, shortest: int | None) -> np.ndarray:
    """File bytes as BGR like `decode`, a JPEG DCT-scaled (libjpeg decodes 1/2, 1/4 or 1/8 of the
    size for a fraction of the work) as far as both sides stay at or above `shortest` pixels.

    Only JPEGs are reduced: other formats would be decoded in full and resized, with no gain.
    None or 0 decodes at full size; so does a file whose header size disagrees with its pixels."""
    if not shortest:
        return decode(data)
    check_bytes(data)
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    view = memoryview(buffer).cast("B")
    size = jpeg_size(view) if view[:3] == b"\xff\xd8\xff" else None
    scale = shrink_for(size, shortest) if size else 1
    if scale > 1:
        bgr = decode(buffer, scale)
        if abs(bgr.shape[1] * scale - size[0]) < scale and abs(bgr.shape[0] * scale - size[1]) < scale:
            return bgr
    return decode(buffer)


def read_bytes_or_fail(file: str | Path) -> np.ndarray:
    """`read_bytes`, its failure as a `DecodeError`."""
    try:
        return read_bytes(file)
    except UnreadableError as error:
        raise DecodeError(str(error)) from None


def read_bgr(file: str | Path) -> np.ndarray:
    """Read (a path or a URI) and decode one file at full size: BGR, or `DecodeError` saying why not."""
    return decode(read_bytes_or_fail(file))


def read_rgb(file: str | Path, shortest: int | None = None) -> np.ndarray:
    """`read_bgr` as RGB; with `shortest`, a JPEG decoded as small as keeps both sides at or above
    that many pixels (`decode_at_least`)."""
    return cv2.cvtColor(decode_at_least(read_bytes_or_fail(file), shortest), cv2.COLOR_BGR2RGB)


def box_region(shape: tuple[int, ...], x: float, y: float, w: float, h: float,
               margin: float = 0.0) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of box (x, y, w, h) grown by `margin` × its size on each side, in
    whole pixels (floor, ceil) clipped to an image of this shape; None when nothing of it is inside."""
    height, width = shape[:2]
    left, top = max(0, int(np.floor(x - margin * w))), max(0, int(np.floor(y - margin * h)))
    right = min(width, int(np.ceil(x + w + margin * w)))
    bottom = min(height, int(np.ceil(y + h + margin * h)))
    if right <= left or bottom <= top:
        return None
    return top, bottom, left, right


def fit(pixels: np.ndarray, size: int) -> np.ndarray:
    """The pixels shrunk (INTER_AREA) so that the longest side is at most `size`; never upscaled."""
    height, width = pixels.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return pixels
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, shape, interpolation=cv2.INTER_AREA)


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """BGR pixels as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def database_folder(con: duckdb.DuckDBPyConnection) -> str | None:
    """The folder of the connection's database file (where relative dataset roots start), as DuckDB
    names it; None for an in-memory database."""
    from .database import database_file

    file = database_file(con)
    return os.path.dirname(file) if file else None


def files(con: duckdb.DuckDBPyConnection, image_ids: list[int]) -> dict[int, tuple[str, str]]:
    """{image id: (file, dataset base)} of the ids that exist: where each image is read from, by the
    path rule, and where its dataset's root lies by the same rule (for a containment check)."""
    folder = database_folder(con)
    rows = con.execute("SELECT i.image_id, d.root, i.path FROM images i JOIN datasets d ON d.name = i.dataset "
                       "WHERE list_contains($ids, i.image_id)", {"ids": list(image_ids)}).fetchall()
    return {image_id: (location(root, path, folder), location(root, "", folder)) for image_id, root, path in rows}


def contained(file: str, base: str) -> bool:
    """Whether `file` lies under `base` once `..` and symbolic links are resolved (a URI: textually,
    with no `..` segment)."""
    if "://" in file or "://" in base:
        return file.startswith(base.rstrip("/") + "/") and ".." not in file.split("/")
    base_path = Path(base or ".").resolve()
    return Path(file).resolve().is_relative_to(base_path)
