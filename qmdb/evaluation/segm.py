"""Mask and keypoint evaluation equal to pycocotools' COCOeval (`iouType='segm'` and `'keypoints'`).

`evaluate_segm(con, model, iou_type="segm")` reads the dataset's masks and the
model's masks from the project, computes mask IoU with pycocotools' own
`maskUtils.iou` (crowd regions: intersection over the detection's area), and
matches with COCOeval's greedy rules (`matching.greedy`, the one matcher boxes use too); `iou_type="keypoints"`
uses OKS (`qmdb.evaluation.keypoints`). The curves and the summary numbers come
from `accumulate`, the same code as boxes, so the twelve numbers (ten for
keypoints) are COCOeval's. Images are ordered by their COCO id (`images.source_id`)
as COCOeval orders `imgIds`, so detections with tied scores on different
images rank as in pycocotools; labels and predictions by their source ids
(COCO's list order). A prediction without a mask is its box as a polygon
(what `loadRes` makes of a box result); labels without a mask are not evaluated.

`greedy` is COCOeval's greedy matching on precomputed candidate pairs, rank by
rank: detections best score first (ties in list order), only the first
`max_det` of a group; each takes the free ground truth of highest similarity at
or above the threshold, a non-ignored one before an ignored one, the later one
on a tie; crowd regions take any number. Step r takes the r-th detection of
every (image, class) group at once (groups never share a ground truth), for all
thresholds and area ranges together.

>>> import numpy as np
>>> m = greedy(gt_image=np.array([1, 1]), gt_cls=np.array([0, 0]), gt_order=np.array([1, 2]),
...            gt_area=np.array([100., 100.]), gt_crowd=np.array([False, False]), gt_ignore=np.array([False, False]),
...            dt_image=np.array([1, 1]), dt_cls=np.array([0, 0]), dt_order=np.array([1, 2]),
...            dt_score=np.array([0.9, 0.8]), dt_area=np.array([90., 100.]),
...            pair_dt=np.array([0, 1]), pair_gt=np.array([0, 0]), pair_iou=np.array([0.8, 0.9]),
...            iou_thresholds=np.array([0.5]), area_ranges=np.array([[0., 1e10]]), max_det=100)
>>> m.dt_match.tolist(), m.gt_match.tolist()
([[0, -1]], [[0, -1]])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import QmdbError
from .accumulate import Accumulated, accumulate
from .detection import match_rows
from .matching import Boxes, greedy
from .params import AREA_LABELS, AREA_RANGES, IOU_THRESHOLDS, MAX_DETS, SUMMARY


IOU_TYPES = ("segm", "keypoints")


@dataclass
class SegmReport:
    """What `evaluate_segm` computed: counts, COCOeval's summary numbers by name, and the rows for
    `matches` and `eval_ap` (their columns, plus `iou_type`)."""

    model: str
    dataset: str
    iou_type: str
    images: int
    labels: int
    predictions: int
    seconds: float
    stats: dict[str, float] = field(default_factory=dict)
    matches: pa.Table | None = None
    ap: pa.Table | None = None

    def __str__(self) -> str:
        head = (f"{self.model} on {self.dataset} ({self.iou_type}): {self.images} images, {self.labels} labels, "
                f"{self.predictions} predictions, matched in {self.seconds:.2f} s")
        return "\n".join([head] + [f"  {k:<10} {v:.4f}" if v >= 0 else f"  {k:<10} -" for k, v in self.stats.items()])


_IMAGES = """
    SELECT image_id, height, width,
           dense_rank() OVER (ORDER BY TRY_CAST(source_id AS BIGINT) NULLS LAST, image_id) AS image_key
    FROM images WHERE dataset = $dataset
"""
_LABELS = f"""
    SELECT l.label_id, l.image_id, i.image_key, l.class, l.mask, l.keypoints, l.num_keypoints,
           l.x, l.y, l.w, l.h, coalesce(l.area, l.w * l.h) AS area, l.iscrowd,
           row_number() OVER (ORDER BY TRY_CAST(l.source_id AS BIGINT) NULLS LAST, l.label_id) AS list_order
    FROM labels l JOIN ({_IMAGES}) i USING (image_id)
    WHERE {{where}}
"""
_PREDICTIONS = f"""
    SELECT p.prediction_id, p.image_id, i.image_key, i.height, i.width, p.class, p.score, p.mask, p.keypoints,
           p.x, p.y, p.w, p.h, coalesce(p.area, p.w * p.h) AS area,
           row_number() OVER (ORDER BY TRY_CAST(p.source_id AS BIGINT) NULLS LAST, p.prediction_id) AS list_order
    FROM predictions p JOIN ({_IMAGES}) i USING (image_id)
    WHERE p.model = $model AND {{where}}
"""
_WHERE = {"segm": ("l.mask IS NOT NULL", "(p.mask IS NOT NULL OR p.w IS NOT NULL)"),
          "keypoints": ("l.keypoints IS NOT NULL", "p.keypoints IS NOT NULL")}
KEYPOINT_AREAS = np.array([[0 ** 2, 1e5 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]], dtype=float)
KEYPOINT_AREA_LABELS = ("all", "medium", "large")
KEYPOINT_SUMMARY = (
    ("ap", True, None, "all"), ("ap50", True, 0.5, "all"), ("ap75", True, 0.75, "all"),
    ("ap_medium", True, None, "medium"), ("ap_large", True, None, "large"),
    ("ar", False, None, "all"), ("ar50", False, 0.5, "all"), ("ar75", False, 0.75, "all"),
    ("ar_medium", False, None, "medium"), ("ar_large", False, None, "large"),
)


def _dataset(con: duckdb.DuckDBPyConnection, model: str, dataset: str | None) -> str:
    rows = con.execute("SELECT dataset FROM models WHERE model = ?", [model]).fetchall()
    if not rows:
        raise QmdbError(f"no model named '{model}' (import its predictions first)")
    dataset = dataset or rows[0][0]
    if not con.execute("SELECT count(*) FROM datasets WHERE name = ?", [dataset]).fetchall()[0][0]:
        raise QmdbError(f"no dataset named '{dataset}'")
    return dataset


def load(con: duckdb.DuckDBPyConnection, model: str, dataset: str, iou_type: str) -> tuple[pa.Table, pa.Table, list[str]]:
    """The labels and predictions that `iou_type` evaluates, and the sorted class names."""
    if iou_type not in IOU_TYPES:
        raise QmdbError(f"iou_type must be one of {', '.join(IOU_TYPES)} (boxes: qmdb.evaluate), got '{iou_type}'")
    on_labels, on_preds = _WHERE[iou_type]
    labels = con.sql(_LABELS.format(where=on_labels), params={"dataset": dataset}).to_arrow_table()
    preds = con.sql(_PREDICTIONS.format(where=on_preds), params={"dataset": dataset, "model": model}).to_arrow_table()
    classes = sorted(set(labels["class"].to_pylist()) | set(preds["class"].to_pylist()))
    return labels, preds, classes


def _codes(column, classes: list[str]) -> np.ndarray:
    return pc.index_in(column, value_set=pa.array(classes, pa.string())).to_numpy().astype(np.int64)


def _mask_fields(masks: pa.ChunkedArray) -> tuple[list, list]:
    """Each stored mask's `counts` string (None where NULL) and its (height, width), read from the Arrow fields."""
    col = masks.combine_chunks()
    size = pc.struct_field(col, "size")
    heights = pc.fill_null(pc.list_element(size, 0), 0).to_numpy().tolist()
    widths = pc.fill_null(pc.list_element(size, 1), 0).to_numpy().tolist()
    return pc.struct_field(col, "counts").to_pylist(), list(zip(heights, widths))


def _pred_fields(preds: pa.Table) -> tuple[list, list]:
    """`_mask_fields` of the predictions; a box without a mask as its polygon's RLE, as `loadRes` makes it."""
    from ..importers.masks import mask_api

    api = mask_api("mask evaluation")
    counts, sizes = _mask_fields(preds["mask"])
    boxed = np.flatnonzero(preds["mask"].is_null().to_numpy(zero_copy_only=False))
    if boxed.size:
        box = preds.select(["x", "y", "w", "h", "height", "width"]).take(pa.array(boxed)).to_pylist()
        for i, b in zip(boxed.tolist(), box):
            x, y, w, h = b["x"], b["y"], b["w"], b["h"]
            rle = api.merge(api.frPyObjects([[x, y, x, y + h, x + w, y + h, x + w, y]], b["height"], b["width"]))
            counts[i], sizes[i] = rle["counts"], tuple(int(v) for v in rle["size"])
    return counts, sizes


def _pred_rles(preds: pa.Table) -> list[dict]:
    """pycocotools RLEs of the predictions (`counts` as `str` or `bytes`, both of which `maskUtils` reads)."""
    return [{"size": list(size), "counts": c} for c, size in zip(*_pred_fields(preds))]


def _objects(counts: list, sizes: list) -> list[dict]:
    """The RLE dicts `maskUtils` reads, made for one call and dropped after it (a dict per stored mask held
    for the whole run costs more in the garbage collector than it saves)."""
    return [{"size": size, "counts": c} for c, size in zip(counts, sizes)]


def _spans(keys: np.ndarray, rows: np.ndarray, shared: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rows` in the stable order of their `keys` and, per shared key, where its run starts and how long it is."""
    order = rows[np.argsort(keys[rows], kind="stable")]
    lo = np.searchsorted(keys[order], shared)
    return order, lo, np.searchsorted(keys[order], shared, side="right") - lo


def _paired(g_img: np.ndarray, gt_cls: np.ndarray, d_img: np.ndarray, dt_cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ground truths and detections whose (image, class) the other side has: only they can pair."""
    codes = np.unique(np.concatenate([g_img, d_img]), return_inverse=True)[1].astype(np.int64)
    n_cls = int(max(gt_cls.max(initial=-1), dt_cls.max(initial=-1))) + 1
    g_key, d_key = codes[:len(g_img)] * n_cls + gt_cls, codes[len(g_img):] * n_cls + dt_cls
    return np.flatnonzero(np.isin(g_key, d_key)), np.flatnonzero(np.isin(d_key, g_key))


def mask_pairs(labels: pa.Table, preds: pa.Table, gt_cls: np.ndarray, dt_cls: np.ndarray,
               threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(detection, ground truth, mask IoU) of same-image, same-class pairs with IoU >= threshold.

    pycocotools' `maskUtils.iou` (its C `rleIou`), one call per image on that image's run of the
    image-sorted mask columns, leaving out the masks whose class the other side lacks on that image; which detection and ground truth each IoU belongs to, the class test
    and the threshold are array operations on all images' IoUs at once."""
    from ..importers.masks import mask_api

    api = mask_api("mask evaluation")
    g_img, d_img = labels["image_id"].to_numpy(), preds["image_id"].to_numpy()
    g_rows, d_rows = _paired(g_img, gt_cls, d_img, dt_cls)
    shared = np.intersect1d(g_img[g_rows], d_img[d_rows])
    g_sort, g_lo, g_n = _spans(g_img, g_rows, shared)
    d_sort, d_lo, d_n = _spans(d_img, d_rows, shared)
    g_counts, g_sizes = _mask_fields(labels["mask"].take(pa.array(g_sort)))
    d_counts, d_sizes = _pred_fields(preds.select(["mask", "x", "y", "w", "h", "height", "width"]).take(pa.array(d_sort)))
    crowd = labels["iscrowd"].to_numpy(zero_copy_only=False).astype(np.uint8)[g_sort].tolist()
    ious = [np.asarray(api.iou(_objects(d_counts[c:c + m], d_sizes[c:c + m]),
                               _objects(g_counts[a:a + n], g_sizes[a:a + n]), crowd[a:a + n]), dtype=float).ravel(order="F")
            for a, n, c, m in zip(g_lo.tolist(), g_n.tolist(), d_lo.tolist(), d_n.tolist())]
    iou = np.concatenate(ious) if ious else np.empty(0)
    per = g_n * d_n                                   # an image's IoUs, column-major: detection fastest
    image = np.repeat(np.arange(len(shared)), per)
    local = np.arange(len(iou)) - np.repeat(np.cumsum(per) - per, per)
    pd = d_sort[d_lo[image] + local % d_n[image]]
    pg = g_sort[g_lo[image] + local // d_n[image]]
    keep = (dt_cls[pd] == gt_cls[pg]) & (iou >= threshold)
    return pd[keep], pg[keep], iou[keep]


def summary(acc: Accumulated, rows: tuple, area_labels: tuple[str, ...], max_dets: tuple[int, ...]) -> dict[str, float]:
    """COCOeval.summarize's numbers: mean of the valid (> -1) precisions or recalls of each row's slice."""
    out = {}
    for name, is_ap, iou, area, *rest in rows:
        a, m = area_labels.index(area), max_dets.index(rest[0] if rest else max_dets[-1])
        s = acc.precision[..., a, m] if is_ap else acc.recall[..., a, m]
        if iou is not None:
            s = s[np.flatnonzero(IOU_THRESHOLDS == iou)]
        valid = s[s > -1]
        out[name] = float(np.mean(valid)) if valid.size else -1.0
    return out


def ap_table(acc: Accumulated, classes: list[str], area_labels: tuple[str, ...], max_dets: tuple[int, ...],
             iou_type: str) -> pa.Table:
    """`eval_ap`'s rows (class, threshold, area range, maxDets; AP and recall NULL where COCO has -1)."""
    ap = acc.ap()
    T, K, A, M = ap.shape
    t, k, a, m = (g.ravel() for g in np.meshgrid(np.arange(T), np.arange(K), np.arange(A), np.arange(M), indexing="ij"))
    recall = acc.recall[t, k, a, m]
    return pa.table({
        "class": pa.array(np.array(classes, dtype=object)[k], pa.string()),
        "threshold": np.round(IOU_THRESHOLDS, 2)[t],
        "area_range": pa.array(np.array(area_labels, dtype=object)[a], pa.string()),
        "max_dets": np.array(max_dets, dtype=np.int32)[m],
        "ap": pa.array(ap[t, k, a, m], from_pandas=True),
        "recall": pa.array(np.where(recall > -1, recall, np.nan), from_pandas=True),
        "gts": acc.gts[k, a], "dets": acc.dets[k, a, m],
        "iou_type": pa.repeat(pa.scalar(iou_type, pa.string()), len(t)),
    })


def evaluate_segm(con: duckdb.DuckDBPyConnection, model: str, *, dataset: str | None = None,
                  iou_type: str = "segm", sigmas: np.ndarray | list[float] | None = None) -> SegmReport:
    """Evaluate `model`'s masks (`iou_type="segm"`) or keypoints (`"keypoints"`, OKS with `sigmas`,
    default COCO's 17 person sigmas) on `dataset` (default: the model's) exactly as COCOeval does.

    Returns the summary (`stats`: ap, ap50, ... as COCOeval.summarize prints them) and the rows for the
    evaluation tables; it writes nothing.
    """
    dataset = _dataset(con, model, dataset)
    start = time.perf_counter()
    labels, preds, classes = load(con, model, dataset, iou_type)
    gt_cls, dt_cls = _codes(labels["class"], classes), _codes(preds["class"], classes)
    col = lambda t, c: t[c].to_numpy(zero_copy_only=False)  # noqa: E731
    crowd = col(labels, "iscrowd").astype(bool)
    if iou_type == "segm":
        pd, pg, iou = mask_pairs(labels, preds, gt_cls, dt_cls, IOU_THRESHOLDS.min())
        areas, area_labels, max_dets, rows, own_ignore = AREA_RANGES, AREA_LABELS, MAX_DETS, SUMMARY, crowd
    else:
        from .keypoints import oks_pairs

        pd, pg, iou = oks_pairs(labels, preds, gt_cls, dt_cls, IOU_THRESHOLDS.min(), sigmas)
        num = labels["num_keypoints"].to_numpy(zero_copy_only=False)
        own_ignore = crowd | (np.nan_to_num(num.astype(float), nan=0.0) == 0)
        areas, area_labels, max_dets, rows = KEYPOINT_AREAS, KEYPOINT_AREA_LABELS, (20,), KEYPOINT_SUMMARY
    m = greedy(gt_image=col(labels, "image_key"), gt_cls=gt_cls, gt_order=col(labels, "list_order"),
               gt_area=col(labels, "area"), gt_crowd=crowd, gt_ignore=own_ignore,
               dt_image=col(preds, "image_key"), dt_cls=dt_cls, dt_order=col(preds, "list_order"),
               dt_score=col(preds, "score"), dt_area=col(preds, "area"), pair_dt=pd, pair_gt=pg, pair_iou=iou,
               iou_thresholds=IOU_THRESHOLDS, area_ranges=areas, max_det=max_dets[-1])
    zeros = lambda n: np.zeros((n, 4))  # noqa: E731
    gt = Boxes(image=col(labels, "image_key"), cls=gt_cls, box=zeros(labels.num_rows), order=col(labels, "list_order"),
               area=col(labels, "area"), crowd=crowd)
    dt = Boxes(image=col(preds, "image_key"), cls=dt_cls, box=zeros(preds.num_rows), order=col(preds, "list_order"),
               score=col(preds, "score"))
    acc = accumulate(gt, dt, m, len(classes), max_dets=max_dets)
    matches = match_rows(model, labels, preds, m)
    matches = matches.append_column("iou_type", pa.repeat(pa.scalar(iou_type, pa.string()), matches.num_rows))
    images = con.execute("SELECT count(*) FROM images WHERE dataset = ?", [dataset]).fetchall()[0][0]
    return SegmReport(model, dataset, iou_type, images, labels.num_rows, preds.num_rows, time.perf_counter() - start,
                      summary(acc, rows, area_labels, max_dets), matches, ap_table(acc, classes, area_labels, max_dets, iou_type))
