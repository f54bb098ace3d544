"""The whole server process under one memory ceiling, enforced by the kernel.

DuckDB's `memory_limit` covers its buffer manager, not every allocation: a string
built by `repeat('x', 2000000000)`, the Python objects a page becomes, JSON encoding,
a plot's arrays. `limit_process` sets `RLIMIT_DATA` (heap and private writable
mappings) to `Settings.max_memory`, so an allocation past it fails where it happens:
DuckDB raises `OutOfMemoryException`, Python raises `MemoryError`, and the request
that asked for it gets a 503 while the server goes on serving. Linux enforces it
for every allocation; elsewhere it is best effort.

>>> parse_size("4GB"), parse_size("512 MiB"), parse_size("1000000")
(4000000000, 536870912, 1000000)
"""

from __future__ import annotations

import re

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """Bytes in a size written as DuckDB writes them (`4GB`, `512MiB`, `1000000`)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match and match.group(2).lower()
    if not match or unit not in UNITS:
        raise ValueError(f"not a size: {text!r} (write e.g. 4GB, 512MiB or a number of bytes)")
    return int(float(match.group(1)) * UNITS[unit])


def limit_process(max_memory: str | None) -> int | None:
    """Cap this process's data segment at `max_memory` (None: no cap); returns the cap in bytes."""
    if max_memory is None:
        return None
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    cap = parse_size(max_memory)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    return cap
