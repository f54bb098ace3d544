"""The images of an annotation task: their names in the task, and how the tool reaches the files.

An image's name in a task is its path below its dataset's root (`dataset/path`
when two selected datasets share a path); that name is how a tool's export
finds its way back to the image (`resolve`). The files are linked (an absolute
symbolic link per image under `images/`), copied there, or left where they are
and served by `qmdb serve` at `BASE/images/{image_id}` (`images.txt` lists the
URLs, one a line, as CVAT's "remote sources" and Label Studio take them).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from ..errors import QmdbError

MODES = ("link", "copy", "url")


def names(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(image_id, name, file, width, height) of the selected images (`_qmdb_export_images`), by image_id."""
    return con.sql("""
        SELECT i.image_id,
               CASE WHEN count(*) OVER (PARTITION BY i.path) > 1 THEN i.dataset || '/' || i.path ELSE i.path END AS name,
               image_location(d.root, i.path) AS file, i.width, i.height
        FROM _qmdb_export_images i JOIN datasets d ON d.name = i.dataset ORDER BY i.image_id""").to_arrow_table()


def url_of(base: str | None, image_id: int) -> str:
    """The URL `qmdb serve` answers an image at.

    >>> url_of("http://localhost:8000/", 7)
    'http://localhost:8000/images/7'
    """
    if not base:
        raise QmdbError("--images url needs the server's address (--url http://HOST:PORT)")
    return f"{base.rstrip('/')}/images/{image_id}"


def place(table: pa.Table, out: Path, mode: str, base: str | None = None) -> list[str]:
    """Put the images where the tool will read them; returns each image's reference: its path below `out`
    (link, copy) or its URL (url)."""
    if mode not in MODES:
        raise QmdbError(f"--images must be one of {', '.join(MODES)}, not '{mode}'")
    ids, image_names, files = (table[c].to_pylist() for c in ("image_id", "name", "file"))
    if mode == "url":
        urls = [url_of(base, i) for i in ids]
        out.mkdir(parents=True, exist_ok=True)
        (out / "images.txt").write_text("".join(u + "\n" for u in urls), encoding="utf-8")
        return urls
    missing = [f for f in files if "://" in f or not Path(f).is_file()]
    if missing:
        raise QmdbError(f"{len(missing)} image file(s) cannot be {'linked' if mode == 'link' else 'copied'}, "
                        f"e.g. {missing[0]}; use --images url and serve them with qmdb serve")
    for name, file in zip(image_names, files):  # one file operation per image: the job itself
        dest = out / "images" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        if mode == "link":
            os.symlink(Path(file).resolve(), dest)
        else:
            shutil.copy2(file, dest)
    return [f"images/{n}" for n in image_names]


_SERVED = re.compile(r"(?:^|/images/)(\d+)(?:[/?#].*)?$")   # a URL of qmdb serve, or its last part (CVAT's name)


def resolve(con: duckdb.DuckDBPyConnection, file: str, given: list[str], scope_ids: list[int | None] | None = None) -> list[int]:
    """The image_id of each image name a tool's file gives: its qmdb image id where the file carries it
    (`scope_ids`), else the exported name (`path` or `dataset/path`, any leading `images/` dropped), else a
    URL served by qmdb (`…/images/{id}`, or the bare id CVAT names such an image by), else a file name
    that is unique in the project. A name that
    matches nothing, or several images, is an error naming it."""
    from ..errors import InputError

    served = [int(m.group(1)) if (m := _SERVED.search(g)) else None for g in given]
    table = pa.table({"n": pa.array(range(len(given)), pa.int64()), "given": pa.array(given, pa.string()),
                      "served": pa.array(served, pa.int64()),
                      "carried": pa.array(scope_ids or [None] * len(given), pa.int64())})
    con.register("_qmdb_annotate_names", table)
    try:
        rows = con.execute("""
            WITH g AS (SELECT n, given, served, carried,
                              regexp_replace(regexp_replace(given, '^[a-z]+://[^/]+/', ''), '^(\\./)?(images/)?', '') AS key
                       FROM _qmdb_annotate_names),
                 byid AS (SELECT g.n, i.image_id FROM g JOIN images i ON i.image_id = g.carried),
                 bypath AS (SELECT n, image_id FROM (SELECT g.n, i.image_id FROM g JOIN images i ON g.key = i.path
                                                     UNION SELECT g.n, i.image_id FROM g JOIN images i
                                                     ON g.key = i.dataset || '/' || i.path)
                            WHERE n NOT IN (SELECT n FROM byid)),
                 byurl AS (SELECT g.n, i.image_id FROM g JOIN images i ON i.image_id = g.served
                           WHERE g.n NOT IN (SELECT n FROM byid UNION ALL SELECT n FROM bypath)),
                 byname AS (SELECT g.n, i.image_id FROM g JOIN images i ON parse_filename(i.path) = parse_filename(g.key)
                            WHERE g.n NOT IN (SELECT n FROM byid UNION ALL SELECT n FROM bypath UNION ALL SELECT n FROM byurl)),
                 found AS (SELECT * FROM byid UNION ALL SELECT * FROM bypath UNION ALL SELECT * FROM byurl
                           UNION ALL SELECT * FROM byname)
            SELECT g.n, g.given, count(f.image_id), min(f.image_id) FROM g LEFT JOIN found f USING (n)
            GROUP BY ALL ORDER BY g.n""").fetchall()
    finally:
        con.unregister("_qmdb_annotate_names")
    bad = next((r for r in rows if r[2] != 1), None)
    if bad is not None:
        problem = "matches no image of the project" if bad[2] == 0 else f"matches {bad[2]} images; name it by its path"
        raise InputError(file, f"image '{bad[1]}'", problem)
    return [r[3] for r in rows]
