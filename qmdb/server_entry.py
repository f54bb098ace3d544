"""`qmdb.create_app`: the HTTP server's app factory, imported only when used (it needs the 'server' extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import MissingExtra


def create_app(database: str | Path, **settings: Any) -> Any:
    """A FastAPI app serving `database` (see `qmdb.server.Settings` for the options).

    Raises MissingExtra, naming `pip install 'qmdb[server]'`, when FastAPI is not installed.
    """
    try:
        from .server import Settings
        from .server import create_app as factory
    except ImportError as error:
        raise MissingExtra("the HTTP server", "server") from error
    return factory(Settings(database=Path(database), **settings))
