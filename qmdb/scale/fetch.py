"""Fetching a task's object-store images (s3://, gs://, hdfs://, file://) at once on a Ray worker.

The local code reads URIs itself (`qmdb.uris`), one at a time; object stores
answer slowly rather than heavily, so a Ray task first copies its URIs' bytes,
`READERS` at a time, into a temporary folder, and the local code reads those
copies: decoding and every metric stay the local ones. A URI that cannot be
read gets the reason an `errors` row then gives.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pyarrow as pa

from ..uris import is_uri, location, read_uri, why

__all__ = ["is_uri", "location", "read_uri", "readable"]

READERS = 8  # URIs read at once per task: object stores answer slowly, not heavily


def _copy(uri: str, target: Path) -> str | None:
    try:
        target.write_bytes(read_uri(uri))
    except (OSError, pa.ArrowException, ValueError) as error:
        return why(error)
    return None


@contextmanager
def readable(files: Sequence[str]) -> Iterator[tuple[list[str], list[str | None]]]:
    """Local paths to read `files` from (a path as itself, a URI as a temporary copy of its bytes), and
    for each file why it could not be read (None when it could). The copies are removed on exit."""
    uris = [n for n, name in enumerate(files) if is_uri(name)]
    if not uris:
        yield list(files), [None] * len(files)
        return
    with tempfile.TemporaryDirectory(prefix="qmdb-fetch-") as folder:
        paths, why = list(files), [None] * len(files)
        targets = [Path(folder) / f"{n}{PurePosixPath(urlsplit(files[n]).path).suffix}" for n in uris]
        with ThreadPoolExecutor(min(READERS, len(uris))) as pool:
            for n, target, problem in zip(uris, targets, pool.map(_copy, [files[n] for n in uris], targets)):
                paths[n], why[n] = str(target), problem
        yield paths, why
