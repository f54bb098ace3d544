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
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


_MISSING = (None, None, None, None, "missing", "image file not found")


def _folded(names: pa.Array) -> pa.Array:
    """File names as a case- and normalization-insensitive file system may compare them."""
    if pc.all(pc.string_is_ascii(names)).as_py() is not False:
        return pc.ascii_lower(names)  # what casefold and NFKD make of ASCII
    return pa.array([unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", n).casefold())
                     for n in names.to_pylist()], pa.string())


def _split(full: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(folder, name) of each path, the folder "" for a bare name."""
    if os.name != "posix":
        parts = [os.path.split(p) for p in full.to_pylist()]
        return pa.array([d for d, _ in parts], pa.string()), pa.array([n for _, n in parts], pa.string())
    split = pc.extract_regex(full, r"^(?P<folder>.*/)?(?P<name>[^/]*)$")
    return pc.fill_null(split.field("folder"), ""), split.field("name")


def _listed(full: pa.Array) -> np.ndarray:
    """Whether each file may exist: False only where its folder lists no entry of that name, even
    folded (so `_probe` would find it missing); True where the folder cannot be listed."""
    folder, name = _split(full)
    listed_folders, listed_names, unlisted = [], [], []
    for where in pc.unique(folder).to_pylist():
        try:
            names = os.listdir(where or ".")
        except FileNotFoundError:
            names = []
        except OSError:  # not a folder, no permission to list: each file is probed
            unlisted.append(where)
            continue
        listed_folders += [where] * len(names)
        listed_names += names
    key = pc.binary_join_element_wise(folder, name, "\0")
    listing = pc.binary_join_element_wise(pa.array(listed_folders, pa.string()), pa.array(listed_names, pa.string()), "\0")
    out = pc.is_in(key, value_set=listing).to_numpy(zero_copy_only=False)
    out |= pc.is_in(folder, value_set=pa.array(unlisted, pa.string())).to_numpy(zero_copy_only=False)
    out |= pc.is_in(name, value_set=pa.array(["", ".", ".."])).to_numpy(zero_copy_only=False)
    unsure = pa.array(np.flatnonzero(~out), pa.int64())
    if len(unsure):
        listing = pc.binary_join_element_wise(pa.array(listed_folders, pa.string()),
                                              _folded(pa.array(listed_names, pa.string())), "\0")
        key = pc.binary_join_element_wise(folder.take(unsure), _folded(name.take(unsure)), "\0")
        out[unsure.to_numpy()] = pc.is_in(key, value_set=listing).to_numpy(zero_copy_only=False)
    return out


def probe_images(root: str | Path, paths: list[str], desc: str = "reading image headers") -> pa.Table:
    """Header size, byte size, sha256 and status of each image (`paths` relative to `root`).

    Returns a table aligned with `paths`: width, height, file_size, sha256,
    status ('ok' | 'missing' | 'unreadable'), message (why, when not ok). A file its folder's
    listing does not name is missing without being opened.
    """
    full = joined(root, pa.array(paths, pa.string()))
    present = np.flatnonzero(_listed(full))
    todo = full.take(pa.array(present, pa.int64())).to_pylist()
    groups = [todo[i:i + _GROUP] for i in range(0, len(todo), _GROUP)]  # one task per group: a future per
    rows = []                                                              # image costs more than a missing file
    with ThreadPoolExecutor(_THREADS) as pool, tqdm(total=len(todo), desc=desc, unit="img",
                                                    disable=len(todo) < 50, leave=False) as bar:
        for done in pool.map(_probe_group, groups):
            rows.extend(done)
            bar.update(len(done))
    rows.append(_MISSING)
    which = np.full(len(full), len(rows) - 1, np.int64)
    which[present] = np.arange(len(present))
    columns = list(zip(*rows))
    types = {"width": pa.int32(), "height": pa.int32(), "file_size": pa.int64(), "sha256": pa.string(),
             "status": pa.string(), "message": pa.string()}
    take = pa.array(which)
    return pa.table({name: pa.array(values, t).take(take) for (name, t), values in zip(types.items(), columns)})


def joined(root: str | Path, paths: pa.Array) -> pa.Array:
    """`os.path.join(root, path)` of each path."""
    root = os.fspath(root)
    if os.name != "posix":
        return pa.array([os.path.join(root, p) for p in paths.to_pylist()], pa.string())
    prefix = root if not root or root.endswith("/") else root + "/"
    return pc.if_else(pc.starts_with(paths, "/"), paths, pc.binary_join_element_wise(prefix, paths, ""))


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
