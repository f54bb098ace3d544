"""YOLO folders from a selection: `images/<split>/…` (links or copies), `labels/<split>/….txt`, `data.yaml`.

Each label line is `index cx cy w h` normalized by the image size, written with
10 significant digits; class indices are the classes ordered by class id
(identity for a dataset imported from YOLO). An image's path keeps its folders
below a leading `images/<split>/`; images without a split go to `images/`.
Labels without a box, or whose image size is unknown, are skipped and counted.
With `segments=True` (YOLO segmentation, Ultralytics' format), a label with a
polygon is written as `index x1 y1 x2 y2 …` normalized (several rings joined
in order into one line), and one with only a mask as the largest outer contour
of the decoded mask (OpenCV, through the boundary pixels' centres: holes
are filled and a thin rim is lost); labels with neither stay boxes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import pyarrow as pa
import yaml
from tqdm import tqdm

from ..errors import QmdbError
from ..transaction import registered
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


def _mask_rings(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(label_id, points) of the exported labels with a mask and no polygon: the largest outer contour."""
    import cv2

    from ..importers.masks import mask_api, to_rles

    todo = con.sql("SELECT label_id, mask FROM _qmdb_export_labels WHERE polygon IS NULL AND mask IS NOT NULL "
                   "ORDER BY label_id").to_arrow_table()
    rings = []
    if todo.num_rows:
        api = mask_api("exporting masks as YOLO segments")
        for rle in to_rles(todo["mask"].to_pylist()):
            contours, _ = cv2.findContours(np.ascontiguousarray(api.decode(rle)), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            contours = [c for c in contours if len(c) >= 3]
            # contour points are pixel indices: + 0.5 puts them on the pixel centres (COCO's pixel i spans [i, i + 1))
            rings.append((max(contours, key=cv2.contourArea).reshape(-1) + 0.5).tolist() if contours else None)
    return pa.table({"label_id": todo["label_id"], "points": pa.array(rings, pa.list_(pa.float64()))})


def write(con: duckdb.DuckDBPyConnection, out: Path, images: str = "symlink", segments: bool = False) -> ExportReport:
    if images not in IMAGE_MODES:
        raise QmdbError(f"images must be one of {', '.join(IMAGE_MODES)}")
    selection.category_ids(con)
    box_line = ("printf('%d %.10g %.10g %.10g %.10g', c.yolo_index, (l.x + l.w / 2) / i.width, "
                "(l.y + l.h / 2) / i.height, l.w / i.width, l.h / i.height)")
    points = "COALESCE(flatten(l.polygon), r.points)" if segments else "NULL::DOUBLE[]"
    line = (f"CASE WHEN {points} IS NOT NULL THEN printf('%d ', c.yolo_index) || array_to_string(list_transform("
            f"{points}, lambda v, k: printf('%.10g', v / CASE WHEN k % 2 = 1 THEN i.width ELSE i.height END)), ' ') "
            f"ELSE {box_line} END")
    with registered(con, _qmdb_export_rings=_mask_rings(con) if segments else
                    pa.table({"label_id": pa.array([], pa.int64()), "points": pa.array([], pa.list_(pa.float64()))})):
        rows = con.execute(f"""
        SELECT i.image_id, i.path, i.split, d.root,
               COALESCE(string_agg({line}, chr(10)
                        ORDER BY TRY_CAST(l.source_id AS BIGINT) NULLS LAST, l.source_id, l.label_id)
                        FILTER (WHERE l.x IS NOT NULL AND i.width IS NOT NULL), '') AS lines
        FROM _qmdb_export_images i JOIN datasets d ON d.name = i.dataset
        LEFT JOIN _qmdb_export_labels l ON l.image_id = i.image_id
        LEFT JOIN _qmdb_export_categories c ON c.class = l.class
        LEFT JOIN _qmdb_export_rings r ON r.label_id = l.label_id
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
