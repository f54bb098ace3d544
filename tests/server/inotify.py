"""Which files in a folder were opened, seen by the Linux kernel (inotify), whoever opened them:
the proof that DuckDB (C++, not Python's `open`) read no bait file."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from pathlib import Path

IN_ACCESS, IN_OPEN = 0x001, 0x020
_EVENT = struct.Struct("iIII")


class OpenWatch:
    """`with OpenWatch(folder) as watch: ...` then `watch.opened` holds the names opened or read."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.opened: set[str] = set()

    def __enter__(self) -> "OpenWatch":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, str(self.folder).encode(), IN_ACCESS | IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")
        return self

    def _drain(self) -> None:
        while select.select([self.fd], [], [], 0.05)[0]:
            data = os.read(self.fd, 65536)
            offset = 0
            while offset < len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size: offset + _EVENT.size + length].rstrip(b"\0").decode()
                self.opened.add(name)
                offset += _EVENT.size + length

    def __exit__(self, *exc: object) -> None:
        self._drain()
        os.close(self.fd)
