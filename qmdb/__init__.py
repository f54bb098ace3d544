"""qmdb: an embedded analytics database for computer-vision data quality, on DuckDB.

>>> import qmdb
>>> con = qmdb.connect()          # a DuckDB connection with qmdb's schema, functions and views
>>> con.sql("SELECT count(*) FROM labels").fetchall()
[(0,)]
"""

from .database import connect, register
from .errors import InputError, QmdbError, ViewError
from .views import run as run_view
from .views import save as save_view

__all__ = [
    "connect",
    "register",
    "run_view",
    "save_view",
    "InputError",
    "QmdbError",
    "ViewError",
]
__version__ = "0.1.0"
