"""Reading what a Ray run wrote: the complete Parquet files of a results folder, in groups.

A run killed while writing leaves files without a Parquet footer; those are
skipped (and counted), and their images are simply selected again by the next
run, since nothing of theirs reached the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq


def complete_files(folder: Path) -> tuple[list[str], list[str]]:
    """(readable Parquet files, unreadable ones) under a folder, sorted."""
    good, bad = [], []
    for path in sorted(folder.rglob("*.parquet")):
        try:
            pq.read_metadata(path)
        except Exception:  # a half-written file: no footer
            bad.append(str(path))
        else:
            good.append(str(path))
    return good, bad


def groups(files: list[str], size: int = 32) -> Iterator[list[str]]:
    """The files in groups of `size` (one transaction each when loading)."""
    for start in range(0, len(files), size):
        yield files[start:start + size]
