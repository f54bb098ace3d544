"""qmdb: an embedded analytics database for computer-vision data quality, on DuckDB.

>>> import qmdb
>>> con = qmdb.connect()          # a DuckDB connection with qmdb's schema, functions and views
>>> con.sql("SELECT count(*) FROM labels").fetchall()
[(0,)]
"""

from .database import connect, register
from .embeddings import embed
from .errors import InputError, QmdbError, ViewError
from .evaluation import evaluate
from .export import export_coco, export_yolo
from .gallery import export_gallery
from .importers import import_dataset, import_metadata, import_predictions
from .label_errors import find_label_errors
from .selection import coreset
from .server_entry import create_app
from .snapshots import diff_snapshots, snapshot
from .tags import tag
from .udfs import compute_metrics, image_metric, label_metric
from .views import run as run_view
from .views import save as save_view

__all__ = [
    "import_dataset",
    "import_predictions",
    "import_metadata",
    "export_coco",
    "export_yolo",
    "export_gallery",
    "image_metric",
    "label_metric",
    "compute_metrics",
    "connect",
    "register",
    "run_view",
    "save_view",
    "snapshot",
    "diff_snapshots",
    "tag",
    "create_app",
    "InputError",
    "QmdbError",
    "ViewError",
    "find_label_errors",
    "coreset",
    "embed",
    "evaluate",
]
__version__ = "0.1.0"
