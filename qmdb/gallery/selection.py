"""A selection made in the gallery (the map's lasso) written as tags: one transaction for every item.

The same `tags` rows and rules as `qmdb.tag` (a known item type, a non-empty tag, every item must
exist), checked for the whole selection in one query and inserted in one statement.

>>> import qmdb
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path) VALUES (3, 'd', 'a.png'), (4, 'd', 'b.png')")
>>> len(tag_items(con, "image", [3, 4], "night", author="ana"))
2
>>> con.sql("SELECT item_id, tag, author FROM tags ORDER BY item_id").fetchall()
[(3, 'night', 'ana'), (4, 'night', 'ana')]
>>> tag_items(con, "image", [3, 9], "night")
Traceback (most recent call last):
...
qmdb.tags.TagError: no image with image_id 9 (of 2 selected)
"""

from __future__ import annotations

import duckdb

from ..tags import ITEMS, TagError
from ..transaction import transaction


def tag_items(con: duckdb.DuckDBPyConnection, item_type: str, item_ids: list[int], tag: str,
              author: str | None = None, note: str | None = None) -> list[int]:
    """Tag every item of a selection (duplicates once); returns the new tag ids, in item order."""
    if item_type not in ITEMS:
        raise TagError(f"item_type '{item_type}' must be one of {', '.join(ITEMS)}")
    if not str(tag).strip():
        raise TagError("the tag is empty")
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise TagError("the selection is empty")
    table, id_column = ITEMS[item_type]
    with transaction(con):
        missing = con.execute(f"SELECT min(s.id) FROM unnest($ids::BIGINT[]) s(id) LEFT JOIN {table} t "
                              f"ON t.{id_column} = s.id WHERE t.{id_column} IS NULL", {"ids": ids}).fetchall()[0][0]
        if missing is not None:
            raise TagError(f"no {item_type} with {id_column} {missing} (of {len(ids)} selected)")
        rows = con.execute("INSERT INTO tags (item_type, item_id, tag, author, note) SELECT $item_type, s.id, $tag, "
                           "$author, $note FROM unnest($ids::BIGINT[]) s(id) ORDER BY s.id RETURNING tag_id, item_id",
                           {"ids": ids, "item_type": item_type, "tag": str(tag).strip(), "author": author,
                            "note": note}).fetchall()
    return [t for t, _ in sorted(rows, key=lambda r: r[1])]
