"""COCO mask evaluation speed: pycocotools vs faster-coco-eval vs qmdb, same masks, one process.

    python bench/masks.py                      # 5,000 images, ~108,000 mask detections (seeded)
    python bench/masks.py --images 500         # a quicker run
    python bench/masks.py --skip-pycocotools   # without the slow baseline

A seeded case (`mask_case`) is written once as a COCO instances file and a results
file under bench/.cache/: star-shaped objects of COCO-like sizes on images of five
sizes, ground truth as polygons (some of two rings), compressed RLE and crowd
regions as uncompressed RLE; detections as compressed RLE (jittered copies of most
objects, duplicates, wrong classes, background false positives, scores rounded to
two decimals so they tie across images); images without labels, some with
predictions only, and image ids listed out of order. The same two files go through

- pycocotools COCOeval(iouType='segm'): evaluate() + accumulate() (the baseline),
- faster-coco-eval COCOeval_faster(iouType='segm') with its defaults (its users'
  settings: up to 8 threads for the mask IoU),
- `qmdb.evaluate(con, model, iou_type='segm')` on a project the files were imported
  into by qmdb's own importers: read the tables, mask IoU, match, accumulate, write
  `matches`, `eval_ap` and `evaluations` in one transaction,

and the table reports each one's seconds (the least of `--rounds`), its speed-up
over pycocotools and over faster-coco-eval and the largest difference of its 12
summary numbers from pycocotools' (from faster-coco-eval's with --skip-pycocotools).
The last column, outside the ratios, is the time of loading the two files:
COCO() + loadRes for the COCO libraries (their evaluate() then rasterizes the
polygons), qmdb's two imports (which check every field, rasterize the polygons
once and store the RLE in the project). Needs the `bench` extra.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np

from qmdb.evaluation.reference import timed_summary

CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = 2
SIZES = np.array([[640, 480], [480, 640], [640, 427], [500, 375], [320, 240]])   # width, height
VERTICES = 12
MODEL = "maskrcnn"


def _stars(rng: np.random.Generator, cx, cy, r, width, height) -> np.ndarray:
    """(n, 2·VERTICES) polygons: jagged, stretched, rotated stars around (cx, cy), inside the image."""
    n = len(cx)
    angle = np.linspace(0, 2 * np.pi, VERTICES, endpoint=False)[None, :] + rng.uniform(-0.15, 0.15, (n, VERTICES))
    radius = r[:, None] * rng.uniform(0.55, 1.0, (n, VERTICES))
    stretch, turn = np.exp(rng.normal(0, 0.35, n))[:, None], rng.uniform(0, np.pi, n)[:, None]
    u, v = radius * np.cos(angle) * stretch, radius * np.sin(angle) / stretch
    x = cx[:, None] + u * np.cos(turn) - v * np.sin(turn)
    y = cy[:, None] + u * np.sin(turn) + v * np.cos(turn)
    x, y = np.clip(x, 0, width[:, None]), np.clip(y, 0, height[:, None])
    return np.round(np.stack([x, y], 2).reshape(n, -1), 2)


def _jitter(rng: np.random.Generator, poly: np.ndarray, r: np.ndarray, width, height) -> tuple[np.ndarray, np.ndarray]:
    """A detector's copy of each polygon (moved, scaled, its vertices shaken) and how far off it is (0: exact)."""
    n = len(poly)
    xy = poly.reshape(n, VERTICES, 2)
    centre = xy.mean(1, keepdims=True)
    off = np.abs(rng.normal(0, 0.15, n))
    scale = np.exp(rng.normal(0, 0.6, n) * off)[:, None, None]
    shift = rng.normal(0, 1, (n, 1, 2)) * (off * r)[:, None, None]
    shake = rng.normal(0, 0.05, (n, VERTICES, 2)) * r[:, None, None]
    out = centre + (xy - centre) * scale + shift + shake
    out[..., 0], out[..., 1] = np.clip(out[..., 0], 0, width[:, None]), np.clip(out[..., 1], 0, height[:, None])
    return np.round(out.reshape(n, -1), 2), off


def _uncompressed(masks: np.ndarray) -> list[dict]:
    """COCO's uncompressed RLE (column-major runs, background first) of each mask of an (h, w, k) stack."""
    h, w, k = masks.shape
    out = []
    for flat in masks.transpose(2, 1, 0).reshape(k, -1):
        change = np.flatnonzero(np.diff(flat)) + 1
        runs = np.diff(np.concatenate([[0], change, [flat.size]]))
        runs = np.concatenate([[0], runs]) if flat[0] else runs
        out.append({"size": [h, w], "counts": runs.tolist()})
    return out


def mask_case(seed: int, n_images: int, n_classes: int = 20, labels_per_image: float = 16.0) -> tuple[dict, list[dict]]:
    """A COCO instances dict (polygons, RLE, crowd RLE; empty images) and a segm results list (RLE)."""
    from pycocotools import mask as api

    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(1, n_images + 1) * 3)          # sparse ids, listed out of order
    size = SIZES[rng.integers(len(SIZES), size=n_images)]
    per_image = rng.poisson(labels_per_image, n_images)
    few = max(1, round(0.05 * n_images))
    empty, predicted_only = np.split(rng.permutation(n_images)[:2 * few], 2)    # 5% each
    per_image[np.concatenate([empty, predicted_only])] = 0
    n = int(per_image.sum())
    img = np.repeat(np.arange(n_images), per_image)
    width, height = size[img, 0].astype(float), size[img, 1].astype(float)
    cls = np.minimum(rng.zipf(1.6, n) - 1, n_classes - 1)
    form = rng.random(n)
    crowd, rle_form = form < 0.03, (form >= 0.03) & (form < 0.2)
    r = np.minimum(np.exp(rng.normal(np.log(20), 0.8, n)) * np.where(crowd, 2.5, 1), np.minimum(width, height) / 2.2)
    r = np.maximum(r, 3)
    cx, cy = r + rng.random(n) * (width - 2 * r), r + rng.random(n) * (height - 2 * r)
    poly = _stars(rng, cx, cy, r, width, height)
    two_rings = ~crowd & ~rle_form & (rng.random(n) < 0.1)
    side = np.minimum(cx + 1.4 * r, width - 0.4 * r)
    second = _stars(rng, side, cy, 0.35 * r, width, height)

    copies = np.concatenate([np.flatnonzero(rng.random(n) < 0.85), np.flatnonzero(rng.random(n) < 0.15)])
    d_poly, off = _jitter(rng, poly[copies], r[copies], width[copies], height[copies])
    d_cls = np.where(rng.random(len(copies)) < 0.08, rng.integers(0, n_classes, len(copies)), cls[copies])
    d_score = np.clip(np.exp(-3 * off) * 0.85 + rng.normal(0, 0.12, len(copies)), 0.01, 1)
    f = int(n * 0.5) + 10
    f_img = rng.choice(np.setdiff1d(np.arange(n_images), empty), f)  # background false positives
    fw, fh = size[f_img, 0].astype(float), size[f_img, 1].astype(float)
    fr = np.maximum(np.minimum(np.exp(rng.normal(np.log(16), 0.8, f)), np.minimum(fw, fh) / 2.2), 3)
    f_poly = _stars(rng, fr + rng.random(f) * (fw - 2 * fr), fr + rng.random(f) * (fh - 2 * fr), fr, fw, fh)
    d_img = np.concatenate([img[copies], f_img])
    d_poly = np.concatenate([d_poly, f_poly])
    d_cls = np.concatenate([d_cls, rng.integers(0, n_classes, f)])
    d_score = np.round(np.concatenate([d_score, rng.beta(1.2, 4, f)]), 2)
    shuffle = rng.permutation(len(d_img))
    d_img, d_poly, d_cls, d_score = d_img[shuffle], d_poly[shuffle], d_cls[shuffle], d_score[shuffle]

    g_seg: list = [None] * n
    g_area, g_box = np.zeros(n), np.zeros((n, 4))
    d_seg: list = [None] * len(d_img)
    g_by, d_by = np.argsort(img, kind="stable"), np.argsort(d_img, kind="stable")
    g_at, d_at = np.searchsorted(img[g_by], np.arange(n_images + 1)), np.searchsorted(d_img[d_by], np.arange(n_images + 1))
    for k in np.flatnonzero((np.diff(g_at) > 0) | (np.diff(d_at) > 0)):   # one rasterization call per image
        w, h = int(size[k, 0]), int(size[k, 1])
        gi, di = g_by[g_at[k]:g_at[k + 1]], d_by[d_at[k]:d_at[k + 1]]
        rings = gi[two_rings[gi]]
        rles = api.frPyObjects([p.tolist() for p in np.concatenate([poly[gi], second[rings], d_poly[di]])], h, w)
        g_rle, extra, d_rle = rles[:len(gi)], rles[len(gi):len(gi) + len(rings)], rles[len(gi) + len(rings):]
        for j, rle in zip(np.flatnonzero(two_rings[gi]), extra):
            g_rle[j] = api.merge([g_rle[j], rle])
        g_area[gi], g_box[gi] = api.area(g_rle), api.toBbox(g_rle)
        for i, rle in zip(gi, g_rle):
            g_seg[i] = ([poly[i].tolist(), second[i].tolist()] if two_rings[i] else [poly[i].tolist()]) \
                if not (crowd[i] or rle_form[i]) else {"size": [h, w], "counts": rle["counts"].decode("ascii")}
        if crowd[gi].any():
            for i, seg in zip(gi[crowd[gi]], _uncompressed(api.decode([g_rle[j] for j in np.flatnonzero(crowd[gi])]))):
                g_seg[i] = seg
        for i, rle in zip(di, d_rle):
            d_seg[i] = {"size": [h, w], "counts": rle["counts"].decode("ascii")}

    images = [{"id": int(i), "file_name": f"{int(i):08d}.jpg", "width": int(s[0]), "height": int(s[1])}
              for i, s in zip(ids, size)]
    anns = [{"id": j + 1, "image_id": int(ids[img[j]]), "category_id": int(cls[j]) + 1, "segmentation": g_seg[j],
             "area": float(g_area[j]), "bbox": [round(float(v), 2) for v in g_box[j]], "iscrowd": int(crowd[j])} for j in range(n)]
    results = [{"image_id": int(ids[d_img[j]]), "category_id": int(d_cls[j]) + 1, "segmentation": d_seg[j],
                "score": float(d_score[j])} for j in range(len(d_img))]
    categories = [{"id": k + 1, "name": f"c{k:02d}", "supercategory": "object"} for k in range(n_classes)]
    return {"images": images, "annotations": anns, "categories": categories}, results


def case_files(seed: int, n_images: int, cache: Path = CACHE) -> tuple[Path, Path]:
    """The case's instances and results files, written once under `cache` (bench/.cache/)."""
    folder = cache / f"masks-{n_images}-s{seed}-v{VERSION}"
    gt_file, dt_file = folder / "instances.json", folder / "results.json"
    if not (gt_file.exists() and dt_file.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        (cache / ".gitignore").write_text("*\n")
        dataset, results = mask_case(seed, n_images)
        for file, data in ((gt_file, dataset), (dt_file, results)):
            part = file.with_suffix(".part")
            part.write_text(json.dumps(data))
            os.replace(part, file)
    return gt_file, dt_file


def cocoeval_segm(gt_file: Path, dt_file: Path, backend: str) -> tuple[float, np.ndarray, float]:
    """COCOeval(iouType='segm') of `backend`: seconds of evaluate + accumulate, the summary, seconds of loading
    the two files (COCO() + loadRes)."""
    if backend == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval as Eval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as Eval
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        gt = COCO(str(gt_file))
        dt = gt.loadRes(str(dt_file))
        load = time.perf_counter() - start
    return (*timed_summary(Eval(gt, dt, "segm")), load)


def project(gt_file: Path, dt_file: Path):
    """A qmdb project holding the case, imported by qmdb's COCO importers, and the seconds that took."""
    import qmdb
    from qmdb.importers import import_dataset, import_predictions

    start = time.perf_counter()
    con = qmdb.connect()
    with contextlib.redirect_stderr(io.StringIO()):      # the importer's progress bars
        import_dataset(con, "coco", gt_file, root=gt_file.parent, name="masks")
        import_predictions(con, "coco", dt_file, model=MODEL, dataset="masks")
    return con, time.perf_counter() - start


def qmdb_segm(con) -> tuple[float, np.ndarray]:
    """`qmdb.evaluate(iou_type='segm')` end to end: tables read, mask IoU, matched, accumulated, written."""
    import qmdb

    start = time.perf_counter()
    report = qmdb.evaluate(con, MODEL, iou_type="segm", progress=False)
    return time.perf_counter() - start, np.array(list(report.stats.values()), dtype=float)


def table(rows: list[tuple[str, float, np.ndarray, float]]) -> str:
    """The markdown table: seconds, ratio vs pycocotools and vs faster-coco-eval, max |Δ| of the 12 stats,
    and the seconds of loading the files (COCO() + loadRes; qmdb: the two imports), not in the ratios."""
    by = {name: (seconds, stats) for name, seconds, stats, _ in rows}
    base = by.get("pycocotools COCOeval") or by.get("faster-coco-eval")
    faster = by.get("faster-coco-eval")
    lines = [f"| {'implementation':<36} | {'seconds':>8} | {'vs pycocotools':>14} | {'vs faster-coco-eval':>19} "
             f"| {'max |Δ| of 12 stats':>20} | {'loading the files':>17} |",
             f"|{'-' * 38}|{'-' * 10}|{'-' * 16}|{'-' * 21}|{'-' * 22}|{'-' * 19}|"]
    for name, seconds, stats, load in rows:
        ratio = f"{by['pycocotools COCOeval'][0] / seconds:.1f}x" if "pycocotools COCOeval" in by else "-"
        vs_faster = f"{faster[0] / seconds:.2f}x" if faster else "-"
        diff = f"{np.abs(stats - base[1]).max():.1e}"
        lines.append(f"| {name:<36} | {seconds:>8.2f} | {ratio:>14} | {vs_faster:>19} | {diff:>20} | {load:>17.2f} |")
    return "\n".join(lines)


def run(gt_file: Path, dt_file: Path, rounds: int, skip_pycocotools: bool = False,
        skip_faster: bool = False) -> list[tuple[str, float, np.ndarray, float]]:
    """Every implementation on the case's files: (name, least seconds of `rounds`, the 12 stats, seconds of
    loading the files in that round)."""
    least = lambda runs: min(runs, key=lambda one: one[0])  # noqa: E731
    rows = []
    if not skip_pycocotools:
        rows.append(("pycocotools COCOeval", *cocoeval_segm(gt_file, dt_file, "pycocotools")))
    if not skip_faster:
        rows.append(("faster-coco-eval", *least([cocoeval_segm(gt_file, dt_file, "faster") for _ in range(rounds)])))
    con, imported = project(gt_file, dt_file)
    rows.append(("qmdb.evaluate(iou_type='segm')", *least([qmdb_segm(con) for _ in range(rounds)]), imported))
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="runs of faster-coco-eval and qmdb; the table shows the least")
    parser.add_argument("--skip-pycocotools", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()
    gt_file, dt_file = case_files(args.seed, args.images)
    data = json.loads(gt_file.read_text())
    n_results = len(json.loads(dt_file.read_text()))
    segs = [a["segmentation"] for a in data["annotations"]]
    crowd = sum(a["iscrowd"] for a in data["annotations"])
    print(f"{len(data['images'])} images, {len(segs)} ground-truth masks ({sum(isinstance(s, list) for s in segs)} "
          f"polygons, {sum(isinstance(s, dict) for s in segs) - crowd} RLE, {crowd} crowd RLE), "
          f"{n_results} mask detections, {len(data['categories'])} classes; load average "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()), flush=True)
    del data, segs
    try:
        import faster_coco_eval  # noqa: F401
        skip_faster = False
    except ImportError:
        print("faster-coco-eval is not installed (pip install faster-coco-eval); skipped")
        skip_faster = True
    rows = run(gt_file, dt_file, args.rounds, args.skip_pycocotools, skip_faster)
    print()
    print(table(rows))
    print()
    print("AP, AP50, AP75 =", ", ".join(f"{v:.4f}" for v in rows[-1][2][:3]),
          "; load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
