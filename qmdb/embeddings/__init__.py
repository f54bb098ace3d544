"""Embeddings and the vector index: vectors per image, label and prediction box, similarity search in SQL.

>>> import qmdb
>>> con = qmdb.connect()
>>> con.sql("SELECT count(*) FROM embeddings").fetchall()
[(0,)]

`embed(con)` fills the `embeddings` table with the built-in offline descriptor
(`builtin-hog-v1`) or an open_clip model, keeps a usearch index file per model
beside the database, and can materialize the `neighbors` table. SQL gets
`similar_images(image_id, k := 10, model_name := NULL)` and its siblings
(see `qmdb.embeddings.functions`).
"""

from .base import Embedder
from .builtin import BuiltinEmbedder
from .index import ensure as ensure_index
from .index import status as index_status
from .models import get_embedder
from .neighbors import materialize as materialize_neighbors
from .pipeline import EmbedReport, embed

__all__ = [
    "BuiltinEmbedder",
    "EmbedReport",
    "Embedder",
    "embed",
    "ensure_index",
    "get_embedder",
    "index_status",
    "materialize_neighbors",
]
