"""The fix loop at scale: a CVAT task of N labels written, an annotator's edits read back and applied, beside
datumaro (the independent CVAT reader/writer) doing the same file work.

A synthetic project (seeded): N boxes on N / 10 images (sizes only, no files: the task's images go by URL).

1. write: `qmdb.annotate.export_cvat` (selection, XML by DuckDB), against datumaro reading that project's
   task back and writing it again as CVAT (`Dataset.export(..., "cvat")`, its own writer);
2. read + apply: an annotator's file (1 % classes changed, 1 % boxes moved, 0.5 % deleted, 0.5 % new boxes;
   a tenth of the shapes lost their label_id, so they are matched by IoU) turned into changes and applied
   through `qmdb.history.apply_changes`, against datumaro parsing the same file (`Dataset.import_from`,
   parsing only: it matches and applies nothing).

Each stage runs in its own process; peak memory is that process's peak resident size (so it includes the
interpreter and the libraries it imported, shown as `idle` for each side).

    python bench/fix_loop.py [--labels 100000] [--seed 0] [--skip-datumaro]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(folder: Path, labels: int, seed: int) -> None:
    """The synthetic project: images 640 x 480, ten boxes each, ten classes."""
    import pyarrow as pa

    import qmdb

    rng = np.random.default_rng(seed)
    n_images = max(1, labels // 10)
    con = qmdb.connect(folder / "project.duckdb")
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('synthetic', '/nonexistent', 'coco')")
    con.execute("INSERT INTO classes SELECT 'synthetic', i, 'class' || i, NULL, NULL, NULL FROM range(10) t(i)")
    con.execute("INSERT INTO images (image_id, dataset, path, width, height, source_id) SELECT i + 1, 'synthetic', "
                "printf('img_%06d.jpg', i), 640, 480, i + 1 FROM range(?) t(i)", [n_images])
    w, h = rng.uniform(8, 80, labels), rng.uniform(8, 80, labels)
    table = pa.table({"image_id": np.arange(labels) // 10 + 1, "class": [f"class{c}" for c in rng.integers(0, 10, labels)],
                      "x": rng.uniform(0, 640 - w), "y": rng.uniform(0, 480 - h), "w": w, "h": h,
                      "source_id": np.arange(labels).astype(str)})
    con.register("synthetic_labels", table)
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, area, source_id) "
                "SELECT image_id, class, x, y, w, h, w * h, source_id FROM synthetic_labels")
    con.close()


def annotate(task: Path, edited: Path, seed: int) -> dict[str, int]:
    """An annotator's edits on the task file (the bench's own setup, not measured)."""
    rng = np.random.default_rng(seed + 1)
    tree = ET.parse(task)
    images = list(tree.getroot().iter("image"))
    shapes = [(image, box) for image in images for box in image.findall("box")]
    pick = rng.permutation(len(shapes))
    n = len(shapes)
    cut = np.cumsum([n // 100, n // 100, n // 200, n // 10])
    for k in pick[:cut[0]]:
        box = shapes[k][1]
        box.set("label", f"class{(int(box.get('label')[5:]) + 1) % 10}")
    for k in pick[cut[0]:cut[1]]:
        box = shapes[k][1]
        for side in ("xtl", "xbr"):
            box.set(side, f"{float(box.get(side)) + 2:.2f}")
    for k in pick[cut[1]:cut[2]]:
        shapes[k][0].remove(shapes[k][1])
    for k in pick[cut[2]:cut[3]]:                 # the tool lost these shapes' ids
        for attribute in shapes[k][1].findall("attribute"):
            shapes[k][1].remove(attribute)
    for k in rng.choice(len(images), n // 200, replace=False):
        image = images[k]
        ET.SubElement(image, "box", label="class0", source="manual", occluded="0", xtl="600", ytl="440",
                      xbr="630", ybr="470", z_order="0")
    tree.write(edited)
    return {"class": n // 100, "moved": n // 100, "deleted": n // 200, "added": n // 200}


def stage(name: str, folder: Path) -> dict:
    """Run one measured stage in this process; returns seconds and peak MB."""
    import warnings

    warnings.simplefilter("ignore")
    if name in ("qmdb-idle", "qmdb-write", "qmdb-read"):
        import qmdb
        from qmdb.annotate import export_cvat, load_annotations

        con = qmdb.connect(folder / ("project.duckdb" if name != "qmdb-read" else "edited.duckdb"))
        start = time.perf_counter()
        out: dict = {}
        if name == "qmdb-write":
            out["report"] = str(export_cvat(con, folder / "task", query="SELECT image_id FROM images", images="url",
                                            url="http://localhost:8000"))
        elif name == "qmdb-read":
            report = load_annotations(con, folder / "edited.xml", author="bench")
            out["report"] = str(report)
        seconds = time.perf_counter() - start
        con.close()
    else:
        from datumaro.components.dataset import Dataset

        start = time.perf_counter()
        if name == "datumaro-write":
            dataset = Dataset.import_from(str(folder / "task"), "cvat")
            t = time.perf_counter()
            dataset.export(str(folder / "dm"), "cvat", save_media=False)
            out = {"export_only": time.perf_counter() - t}
        elif name == "datumaro-read":
            dataset = Dataset.import_from(str(folder / "edited_task"), "cvat")
            out = {"annotations": sum(len(item.annotations) for item in dataset)}
        else:
            out = {}
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), **out}


def _child(name: str, folder: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--stage", name, "--folder", str(folder)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-datumaro", action="store_true")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, Path(args.folder))))
        return
    with tempfile.TemporaryDirectory(prefix="qmdb-fix-loop-") as tmp:
        folder = Path(tmp)
        build(folder, args.labels, args.seed)
        rows = {"idle": {"qmdb": _child("qmdb-idle", folder)}}
        rows["write"] = {"qmdb": _child("qmdb-write", folder)}
        (folder / "edited_task").mkdir()
        edits = annotate(folder / "task" / "annotations.xml", folder / "edited.xml", args.seed)
        (folder / "edited_task" / "annotations.xml").write_bytes((folder / "edited.xml").read_bytes())
        (folder / "edited.duckdb").write_bytes((folder / "project.duckdb").read_bytes())
        rows["read + apply"] = {"qmdb": _child("qmdb-read", folder)}
        if not args.skip_datumaro:
            import duckdb

            images = folder / "task" / "images"           # datumaro wants a file per image name (never read)

            names = [n for (n,) in duckdb.connect(str(folder / "project.duckdb"), read_only=True)
                     .execute("SELECT path FROM images").fetchall()]
            for sub in (images, folder / "edited_task" / "images"):
                sub.mkdir(exist_ok=True)
                for n in names:
                    (sub / n).touch()
            rows["idle"]["datumaro"] = _child("datumaro-idle", folder)
            rows["write"]["datumaro"] = _child("datumaro-write", folder)
            rows["read + apply"]["datumaro"] = _child("datumaro-read", folder)
    print(f"fix loop, {args.labels:,} labels on {max(1, args.labels // 10):,} images (seed {args.seed}); "
          f"edits: {edits}")
    print(f"  qmdb write: {rows['write']['qmdb']['report']}")
    print(f"  qmdb read:  {rows['read + apply']['qmdb']['report']}")
    print(f"{'stage':<14}{'qmdb s':>9}{'qmdb MB':>10}{'datumaro s':>12}{'datumaro MB':>13}{'ratio':>8}")
    for name, row in rows.items():
        q, d = row["qmdb"], row.get("datumaro")
        ratio = f"{d['seconds'] / q['seconds']:.1f}x" if d and name != "idle" and q["seconds"] > 0 else ""
        print(f"{name:<14}{q['seconds']:>9.2f}{q['peak_mb']:>10.0f}"
              + (f"{d['seconds']:>12.2f}{d['peak_mb']:>13.0f}{ratio:>8}" if d else f"{'-':>12}{'-':>13}{'':>8}"))
    print("datumaro: write = parse the task + its own CVAT writer; read + apply = parsing the edited file only "
          "(no matching, nothing applied). ratio = datumaro seconds / qmdb seconds.")


if __name__ == "__main__":
    main()
