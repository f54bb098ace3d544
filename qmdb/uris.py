"""Images named by URIs (s3://, gs://, hdfs://, file://) as well as by paths.

A URI's bytes are read with pyarrow's file systems
(`pyarrow.fs.FileSystem.from_uri`, one file system per scheme and host, kept
for the process's life); a path is read from the local file system. Every
reader of image files (the metric runner, the SQL functions, the embedders,
Ray's workers) goes through `read_bytes`, so a manifest of object-store URIs
works with the local engine as well as with Ray.

>>> is_uri("s3://bucket/a.jpg"), is_uri("/data/a.jpg"), is_uri("images/a.jpg")
(True, False, False)
>>> location("/data", "a.jpg"), location("", "gs://bucket/a.jpg")
('/data/a.jpg', 'gs://bucket/a.jpg')

The path rule (one for every reader; `image_location(root, path)` is the same
rule in SQL, defined by the `metrics` migrations of `qmdb.udfs.tables`): an
image's `path` that is a URI or an absolute path is where it is read from;
otherwise it is joined to its dataset's `root`, and a root that is neither a
URI nor absolute (the empty root included) starts at the database file's
folder (`folder`; with none, an in-memory database, at the working directory).
The importers store roots absolute (resolved at import time); a manifest's
dataset has the empty root and absolute paths or URIs.

>>> location("photos", "a.jpg", "/projects/p"), location("", "a.jpg", "/projects/p")
('/projects/p/photos/a.jpg', '/projects/p/a.jpg')
>>> location("s3://bucket/set/", "a.jpg", "/projects/p"), location("/data", "/elsewhere/a.jpg")
('s3://bucket/set/a.jpg', '/elsewhere/a.jpg')
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import numpy as np

_FILESYSTEMS: dict = {}


class UnreadableError(Exception):
    """A file or object that cannot be read; the message says why, in the words of an `errors` row."""


def is_uri(name: str | Path) -> bool:
    """True for `scheme://…` (an object-store or file URI), False for a file system path."""
    return "://" in str(name)


def location(root: str, path: str, folder: str | None = None) -> str:
    """Where an image is read from (the path rule above): a URI or an absolute path as itself, else
    joined to its dataset's root; a relative root starts at `folder` (the database file's folder).
    Plain string joins, exactly as the SQL macro `image_location` does them."""
    if is_uri(path) or path.startswith("/"):
        return path
    if is_uri(root) or root.startswith("/"):
        return root.rstrip("/") + "/" + path
    parts = ([] if folder is None else [folder.rstrip("/")]) + ([root.rstrip("/")] if root.rstrip("/") else [])
    return "/".join([*parts, path])


def _filesystem(uri: str):
    """(file system, path inside it) of a URI; the file system is made once per scheme and host."""
    import pyarrow.fs as pafs

    parts = urlsplit(uri)
    key = (parts.scheme, parts.netloc)
    if key not in _FILESYSTEMS:
        _FILESYSTEMS[key] = pafs.FileSystem.from_uri(f"{parts.scheme}://{parts.netloc}/")
    filesystem, base = _FILESYSTEMS[key]
    return filesystem, str(PurePosixPath(base or "/") / unquote(parts.path).lstrip("/"))


def read_uri(uri: str) -> bytes:
    """The bytes of the object a URI names (`FileNotFoundError` when there is none)."""
    filesystem, path = _filesystem(uri)
    with filesystem.open_input_stream(path) as stream:
        return stream.read()


def why(error: Exception) -> str:
    """The reason an `errors` row gives for a read that failed."""
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, IsADirectoryError):
        return "is a directory, not an image file"
    text = getattr(error, "strerror", None) or str(error).strip()
    return f"cannot read: {text.splitlines()[0] if text else type(error).__name__}"


def read_bytes(name: str | Path) -> np.ndarray:
    """The bytes of a file (path) or an object (URI) as uint8, or `UnreadableError` saying why not."""
    if not is_uri(name):
        try:
            return np.fromfile(str(name), np.uint8)
        except OSError as error:
            raise UnreadableError(why(error)) from None
    import pyarrow as pa

    try:
        return np.frombuffer(read_uri(str(name)), np.uint8)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise UnreadableError(why(error)) from None
