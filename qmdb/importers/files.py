"""Reading source files: text and JSON with clear errors, image headers and hashes.

The only per-file loop of an import is here: each image file is read once, its
bytes hashed (sha256) and its header parsed by PIL's lazy open, which reads the
header only and decodes no pixels.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from ..errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_THREADS = min(8, (os.cpu_count() or 2) * 2)
_GROUP = 64  # images per thread task


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, or an InputError naming the file and the bad byte."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a folder, expected a file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, None, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})") from None


def read_json(path: str | Path, expected: type = dict, what: str = "a JSON object") -> object:
    """Parse a JSON file; empty, truncated or malformed JSON is an InputError with line and column."""
    text = read_text(path)
    if not text.strip():
        raise InputError(path, None, f"empty file, expected {what}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path, f"line {error.lineno} column {error.colno}", f"invalid JSON: {error.msg}") from None
    if not isinstance(value, expected):
        raise InputError(path, None, f"expected {what}, got {type(value).__name__}")
    return value


def _probe(path: str) -> tuple:
    """(width, height, file_size, sha256, status, message) of one image file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, None, None, None, "missing", "image file not found"
    except IsADirectoryError:
        return None, None, None, None, "unreadable", "is a folder, not an image file"
    except OSError as error:
        return None, None, None, None, "unreadable", f"cannot read: {error.strerror or error}"
    digest = hashlib.sha256(data).hexdigest()
    try:
        with Image.open(io.BytesIO(data)) as image:  # lazy: parses the header only
            width, height = image.size
    except UnidentifiedImageError:  # its own text names the BytesIO object, not the file
        return None, None, len(data), digest, "unreadable", "not a readable image: unknown or corrupt image format"
    except Image.DecompressionBombError as error:
        return None, None, len(data), digest, "unreadable", f"refused as a decompression bomb: {error}"
    except Exception as error:  # noqa: BLE001 - any header Pillow cannot parse is this file's problem only
        return None, None, len(data), digest, "unreadable", f"not a readable image: {error or type(error).__name__}"
    return width, height, len(data), digest, "ok", None


def _probe_group(paths: list[str]) -> list[tuple]:
    return [_probe(p) for p in paths]


def probe_images(root: str | Path, paths: list[str], desc: str = "reading image headers") -> pa.Table:
    """Header size, byte size, sha256 and status of each image (`paths` relative to `root`).

    Returns a table aligned with `paths`: width, height, file_size, sha256,
    status ('ok' | 'missing' | 'unreadable'), message (why, when not ok).
    """
    full = [os.path.join(root, p) for p in paths]  # not pathlib: its parsing cost more than a missing file's probe
    groups = [full[i:i + _GROUP] for i in range(0, len(full), _GROUP)]  # one task per group: a future per
    rows = []                                                              # image costs more than a missing file
    with ThreadPoolExecutor(_THREADS) as pool, tqdm(total=len(full), desc=desc, unit="img",
                                                    disable=len(full) < 50, leave=False) as bar:
        for done in pool.map(_probe_group, groups):
            rows.extend(done)
            bar.update(len(done))
    columns = list(zip(*rows)) if rows else [()] * 6
    return pa.table({
        "width": pa.array(columns[0], pa.int32()),
        "height": pa.array(columns[1], pa.int32()),
        "file_size": pa.array(columns[2], pa.int64()),
        "sha256": pa.array(columns[3], pa.string()),
        "status": pa.array(columns[4], pa.string()),
        "message": pa.array(columns[5], pa.string()),
    })


def walk_images(folder: str | Path) -> list[str]:
    """Image files under a folder (and folders named like one), as sorted POSIX paths relative to it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, None, "no such folder")
    found, folders = [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath).relative_to(folder)
        found.extend((base / f).as_posix() for f in filenames if f.lower().endswith(IMAGE_SUFFIXES))
        folders.extend((base / d).as_posix() for d in dirnames if d.lower().endswith(IMAGE_SUFFIXES))
    # a folder named like an image (`cat/folder.jpg/`) holding no image is listed too: it becomes an
    # unreadable image with an `errors` row, as in a label table naming it (one holding images is a
    # class folder with an odd name)
    holders = {PurePosixPath(p).parents[k].as_posix() for p in found for k in range(len(PurePosixPath(p).parts) - 1)}
    return sorted(found + [d for d in folders if d not in holders])


def relative_paths(paths: list[str], root: str | Path, dataset_root: str | Path) -> list[str]:
    """Paths relative to `root`, re-expressed relative to the dataset's root (they differ when a
    later split of a dataset lives elsewhere)."""
    root, dataset_root = Path(root).resolve(), Path(dataset_root).resolve()
    if root == dataset_root:
        return list(paths)
    return [Path(os.path.relpath(root / p, dataset_root)).as_posix() for p in paths]


def sizes_or_none(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Width and height as float arrays, NaN where unknown."""
    return (table["width"].to_numpy(zero_copy_only=False).astype(float),
            table["height"].to_numpy(zero_copy_only=False).astype(float))
