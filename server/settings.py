"""The server's settings: one frozen dataclass, passed to `create_app` (and, when `--workers` > 1,
to each worker process through a file only this user can read, named in the environment: the
tokens never travel in an environment variable another process could list)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENVIRONMENT = "QMDB_SERVER_SETTINGS_FILE"


@dataclass(frozen=True)
class Settings:
    """What a server serves and how far it lets a client go.

    >>> Settings(database=Path("demo.duckdb")).max_rows
    1000000
    """

    database: Path
    max_rows: int = 1_000_000          # most rows one response carries, in any format
    page_size: int = 1_000             # JSON rows per page when the client gives no limit
    max_page_size: int = 50_000        # largest JSON page a client may ask for
    timeout: float = 30.0              # seconds a query may run (streaming included) before DuckDB is interrupted
    memory_limit: str = "2GB"          # DuckDB memory limit of the serving connection
    max_memory: str | None = "4GB"     # the whole process's ceiling (server/memory.py); None: none
    threads: int | None = None         # DuckDB threads (None: DuckDB's default)
    auth_token: str | None = None      # when set, every request needs `Authorization: Bearer <auth_token>`
    allow_writes: bool = False         # write endpoints (save a view, tag, snapshot) exist only when True ...
    write_token: str | None = None     # ... and a request to them needs `Authorization: Bearer <write_token>`
    thumbnail_size: int = 256          # default longest side of a thumbnail
    cache_entries: int = 1024          # JSON pages kept for repeated deterministic queries (read-only only; 0: off)
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)  # Host headers accepted (empty: any)
    max_body_bytes: int = 1_000_000    # largest request body (413 beyond)
    max_requests: int = 64             # requests in flight at once; the next ones wait in line ...
    queue_timeout: float = 10.0        # ... this many seconds, then get 503 with Retry-After

    def __post_init__(self) -> None:
        object.__setattr__(self, "database", Path(self.database))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        if self.allow_writes and not self.write_token:
            raise ValueError("write endpoints need a token: pass --token T with --allow-writes")
        if min(self.max_rows, self.page_size, self.max_page_size, self.max_body_bytes, self.max_requests) < 1 \
                or self.timeout <= 0 or self.queue_timeout <= 0:
            raise ValueError("max_rows, page_size, max_page_size, timeout, max_body_bytes, max_requests "
                             "and queue_timeout must be positive")
        if self.max_memory is not None:
            from .memory import parse_size

            if parse_size(self.max_memory) <= parse_size(self.memory_limit):
                raise ValueError(f"--max-memory ({self.max_memory}) must be above --memory-limit "
                                 f"({self.memory_limit}): the process holds more than DuckDB's part")

    def to_file(self) -> str:
        """Write these settings to a new file readable by this user only (0600) and name it in the
        environment for worker processes; returns the path (the caller removes it when done)."""
        handle, path = tempfile.mkstemp(prefix="qmdb-serve-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out, default=str)
        os.environ[ENVIRONMENT] = path
        return path

    @classmethod
    def from_environment(cls) -> "Settings":
        """The settings `to_file` wrote, in a worker process."""
        with open(os.environ[ENVIRONMENT], encoding="utf-8") as handle:
            return cls(**json.load(handle))
