"""Tags: human decisions about an image, a label or a prediction (the human-in-the-loop write path).

>>> import qmdb
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path) VALUES (7, 'd', 'a.png')")
>>> qmdb.tag(con, "image", 7, "blurry", author="ana")
1
>>> con.sql("SELECT item_type, item_id, tag, author FROM tags").fetchall()
[('image', 7, 'blurry', 'ana')]
"""

from __future__ import annotations

import duckdb

from .errors import QmdbError

ITEMS = {"image": ("images", "image_id"), "label": ("labels", "label_id"), "prediction": ("predictions", "prediction_id")}


class TagError(QmdbError):
    """A tag that cannot be added: unknown item type, missing item, empty tag."""


def tag(con: duckdb.DuckDBPyConnection, item_type: str, item_id: int, tag: str,
        author: str | None = None, note: str | None = None) -> int:
    """Tag one image, label or prediction; returns the new `tag_id`. The item must exist."""
    if item_type not in ITEMS:
        raise TagError(f"item_type '{item_type}' must be one of {', '.join(ITEMS)}")
    if not str(tag).strip():
        raise TagError("the tag is empty")
    table, id_column = ITEMS[item_type]
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {id_column} = ?", [item_id]).fetchall()[0][0]:
        raise TagError(f"no {item_type} with {id_column} {item_id}")
    return con.execute(
        "INSERT INTO tags (item_type, item_id, tag, author, note) VALUES (?, ?, ?, ?, ?) RETURNING tag_id",
        [item_type, item_id, str(tag).strip(), author, note],
    ).fetchall()[0][0]
