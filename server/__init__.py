"""qmdb's optional HTTP query server (FastAPI + uvicorn: `pip install 'qmdb[server]'`).

`create_app(Settings(database=...))` builds the app; `qmdb serve DB` runs it.
"""

from .app import create_app
from .safety import UnsafeQuery, check
from .settings import Settings

__all__ = ["create_app", "Settings", "check", "UnsafeQuery"]
