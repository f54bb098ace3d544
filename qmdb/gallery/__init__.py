"""The gallery: which image and which boxes each row of a query shows (`items`), and a
self-contained HTML export of a view or query (`export`); the server's page uses the same
`items` and the same renderer (`qmdb/server/static/gallery.js`)."""

from .export import export_gallery
from .items import annotate, id_columns

__all__ = ["annotate", "id_columns", "export_gallery"]
