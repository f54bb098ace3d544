"""YOLO folders from a selection: `images/<split>/…` (links or copies), `labels/<split>/….txt`, `data.yaml`.

Each label line is `index cx cy w h` normalized by the image size, written with
10 significant digits; class indices are the classes ordered by class id
(identity for a dataset imported from YOLO). An image's path keeps its folders
below a leading `images/<split>/`; images without a split go to `images/`.
Labels without a box, or whose image size is unknown, are skipped and counted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import duckdb
import yaml
from tqdm import tqdm

from ..errors import QmdbError
from . import selection
from .report import ExportReport

IMAGE_MODES = ("symlink", "copy", "none")


def target(path: str, split: str | None) -> str:
    """Where an image goes below `images/`.

    >>> target("images/train/a/b.png", "train"), target("c.png", None), target("x/c.png", "val")
    ('train/a/b.png', 'c.png', 'val/x/c.png')
    """
    parts = PurePosixPath(path).parts
    if "images" in parts[:-1]:
        parts = parts[parts.index("images") + 1:]
        if split and len(parts) > 1 and parts[0] == split:
            parts = parts[1:]
    return str(PurePosixPath(*([split] if split else []), *parts))


def _place(source: Path, dest: Path, mode: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    if mode == "symlink":
        os.symlink(source.resolve(), dest)
    else:
        shutil.copy2(source, dest)


def write(con: duckdb.DuckDBPyConnection, out: Path, images: str = "symlink") -> ExportReport:
    if images not in IMAGE_MODES:
        raise QmdbError(f"images must be one of {', '.join(IMAGE_MODES)}")
    selection.category_ids(con)
    rows = con.execute("""
        SELECT i.image_id, i.path, i.split, d.root,
               COALESCE(string_agg(printf('%d %.10g %.10g %.10g %.10g', c.yolo_index, (l.x + l.w / 2) / i.width,
                        (l.y + l.h / 2) / i.height, l.w / i.width, l.h / i.height), chr(10)
                        ORDER BY TRY_CAST(l.source_id AS BIGINT) NULLS LAST, l.source_id, l.label_id)
                        FILTER (WHERE l.x IS NOT NULL AND i.width IS NOT NULL), '') AS lines
        FROM _qmdb_export_images i JOIN datasets d ON d.name = i.dataset
        LEFT JOIN _qmdb_export_labels l ON l.image_id = i.image_id
        LEFT JOIN _qmdb_export_categories c ON c.class = l.class
        GROUP BY ALL ORDER BY i.image_id""").fetchall()
    names = [t for (t,) in con.execute("SELECT class FROM _qmdb_export_categories ORDER BY yolo_index").fetchall()]
    targets = [target(path, split) for _, path, split, _, _ in rows]
    if len(set(targets)) != len(targets):
        clash = next(t for i, t in enumerate(targets) if t in targets[:i])
        raise QmdbError(f"two exported images would both be written to images/{clash}")
    for (image_id, path, split, root, lines), name in tqdm(list(zip(rows, targets)), desc="writing YOLO files",
                                                            unit="img", disable=len(rows) < 200, leave=False):
        label = out / "labels" / PurePosixPath(name).with_suffix(".txt")
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(lines + ("\n" if lines else ""), encoding="utf-8")
        if images != "none" and (Path(root) / path).exists():
            _place(Path(root) / path, out / "images" / name, images)
    splits = sorted({s for _, _, s, _, _ in rows if s})
    spec = {"path": str(out.resolve()), **({s: f"images/{s}" for s in splits} or {"train": "images"}),
            "names": dict(enumerate(names))}
    (out / "data.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    written, skipped = con.execute(
        "SELECT count(*) FILTER (WHERE l.x IS NOT NULL AND i.width IS NOT NULL), "
        "count(*) FILTER (WHERE l.x IS NULL OR i.width IS NULL) FROM _qmdb_export_labels l "
        "JOIN _qmdb_export_images i USING (image_id)").fetchall()[0]
    return ExportReport("yolo", out, len(rows), written, skipped)
