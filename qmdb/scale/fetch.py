"""Fetching a task's object-store images (s3://, gs://, hdfs://, file://) at once on a Ray worker.

The local code reads URIs itself (`qmdb.uris`), one at a time; object stores
answer slowly rather than heavily, so a Ray task first copies its URIs' bytes,
`READERS` at a time, into a temporary folder, and the local code reads those
copies: decoding and every metric stay the local ones. A URI that cannot be
copied is left to the local reader, which gives the reason an `errors` row shows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pyarrow as pa

from ..uris import is_uri, location, read_uri

__all__ = ["is_uri", "location", "read_uri", "readable"]

READERS = 8  # URIs read at once per task: object stores answer slowly, not heavily


def _copy(uri: str, target: Path) -> bool:
    try:
        target.write_bytes(read_uri(uri))
    except (OSError, pa.ArrowException, ValueError):
        return False
    return True


@contextmanager
def readable(files: Sequence[str]) -> Iterator[list[str]]:
    """Where to read `files` from: a path as itself, a URI as a temporary copy of its bytes (removed on
    exit). A URI that cannot be copied stays as it is, so the local reader says why, as for any file."""
    uris = [n for n, name in enumerate(files) if is_uri(name)]
    if not uris:
        yield list(files)
        return
    with tempfile.TemporaryDirectory(prefix="qmdb-fetch-") as folder:
        paths = list(files)
        targets = [Path(folder) / f"{n}{PurePosixPath(urlsplit(files[n]).path).suffix}" for n in uris]
        with ThreadPoolExecutor(min(READERS, len(uris))) as pool:
            for n, target, copied in zip(uris, targets, pool.map(_copy, [files[n] for n in uris], targets)):
                if copied:
                    paths[n] = str(target)
        yield paths
