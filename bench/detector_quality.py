"""The demo detector's quality and time on freshly rendered held-out scenes (odd half of the digits,
as the demo's own scenes), judged the way qmdb.demo.trust judges the demo: recall at IoU 0.5 by time
of day (one match per object by best score), share right, and ECE over 10 equal-width bins.

    python bench/detector_quality.py [--scenes 120] [--seed 99] [--repeats 2] [--diagnose]

Each configuration (module constants overridden, CONFIGS) is trained, calibrated and judged in turn,
interleaved (A B A B), in one process; the table gives each figure and its ratio to the first.
"""

from __future__ import annotations

import argparse
import os
os.environ.setdefault("TQDM_DISABLE", "1")
import time

import cv2
import numpy as np

from qmdb.demo import detector, proposals, scenes, sources


def held_out(seed: int, n: int):
    images, targets = sources.digits()
    pool, pool_targets = images[1::2], targets[1::2]
    out = []
    for child in np.random.default_rng(seed).spawn(n):
        bgr, conditions, boxes = scenes.render(child, pool, pool_targets)
        _, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, conditions["jpeg_quality"]])
        out.append((cv2.imdecode(enc, cv2.IMREAD_COLOR), conditions, boxes))
    return out


def judge(model, data, diagnose: bool = False) -> dict:
    found, tod, scores, right, per_image, cover = [], [], [], [], [], []
    t0 = time.process_time()
    for bgr, conditions, boxes in data:
        truth, classes, _ = detector._truth(boxes)
        b, d, s = detector.detect(model, bgr)
        per_image.append(len(b))
        r = detector.correct(b, d, s, truth, classes)
        scores.append(s)
        right.append(r)
        hit = (proposals.iou(b, truth) >= 0.5) & (d[:, None] == classes[None, :]) if len(b) and len(truth) else np.zeros((len(b), len(truth)), bool)
        found.append(np.c_[hit.any(0), (hit & (s[:, None] >= 0.5)).any(0)] if len(truth) else np.zeros((0, 2), bool))
        tod += [conditions["time_of_day"]] * len(truth)
        if diagnose:
            p, _ = proposals.propose(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
            best = proposals.iou(p, truth).max(0) if len(p) else np.zeros(len(truth))
            cover += [(best[i], boxes[i]["digit_height"], boxes[i]["blur"], boxes[i]["ink_contrast"], hit[:, i].any())
                      for i in range(len(truth))]
    detect_s = time.process_time() - t0
    found, tod = np.concatenate(found), np.array(tod)
    scores, right = np.concatenate(scores), np.concatenate(right)
    bins = np.minimum((scores * 10).astype(int), 9)
    ece = sum(abs(scores[bins == k].mean() - right[bins == k].mean()) * (bins == k).sum()
              for k in range(10) if (bins == k).any()) / len(scores)
    out = {"recall": {t: (int((tod == t).sum()), round(found[tod == t, 0].mean(), 3), round(found[tod == t, 1].mean(), 3))
                      for t in ("day", "dusk", "night")},
           "predictions": len(scores), "per_image": round(np.mean(per_image), 1), "right": round(right.mean(), 3),
           "precision@0.5": round(right[scores >= 0.5].mean(), 3) if (scores >= 0.5).any() else None,
           "ece": round(ece, 3), "detect_cpu_s": round(detect_s, 1)}
    if diagnose:
        c = np.array(cover, float)
        out["proposal_recall@0.5"] = round((c[:, 0] >= 0.5).mean(), 3)
        out["detected_given_proposal"] = round(c[c[:, 0] >= 0.5, 4].mean(), 3)
        for name, col, edges in (("height", 1, (0, 16, 24, 40, 70, 999)), ("blur", 2, (0, 0.5, 1, 2, 9)),
                                 ("contrast", 3, (0, 20, 40, 80, 999))):
            rows = []
            for lo, hi in zip(edges, edges[1:]):
                m = (c[:, col] >= lo) & (c[:, col] < hi)
                if m.any():
                    rows.append(f"[{lo},{hi}) n={m.sum()} prop={np.mean(c[m, 0] >= 0.5):.2f} det={c[m, 4].mean():.2f}")
            out[name] = rows
    return out


CONFIGS: dict[str, dict[tuple[object, str], object]] = {
    "as is": {},
    "3 hypotheses": {(detector, "HYPOTHESES"): 3},
    "nms 0.6": {(detector, "NMS_IOU"): 0.6},
    "3 hypotheses, nms 0.6": {(detector, "HYPOTHESES"): 3, (detector, "NMS_IOU"): 0.6},
}


def run_config(overrides: dict, data, train_seed: int, diagnose: bool) -> dict:
    saved = {key: getattr(*key) for key in overrides}
    for (module, name), value in overrides.items():
        setattr(module, name, value)
    try:
        rng = np.random.default_rng(train_seed)
        t0 = time.process_time()
        classifier = detector.train(rng)
        model = detector.Detector(classifier, detector.calibrate(classifier, rng))
        fit_s = time.process_time() - t0
        return {"train+calibrate_cpu_s": round(fit_s, 1), **judge(model, data, diagnose)}
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=120)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--train-seed", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--diagnose", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    data = held_out(args.seed, args.scenes)
    results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name, overrides in CONFIGS.items():
            results[name].append(run_config(overrides, data, args.train_seed, args.diagnose))
            print(f"{name}: done, load average {os.getloadavg()[0]:.1f}", flush=True)
    first = None
    for name, runs in results.items():
        flat = {}
        for key, value in runs[0].items():
            if isinstance(value, dict):
                flat.update({f"recall {t}": v[1] for t, v in value.items()})
                flat.update({f"recall@0.5 {t}": v[2] for t, v in value.items()})
            elif isinstance(value, (int, float)):
                flat[key] = float(np.mean([r[key] for r in runs]))
            else:
                flat[key] = value
        first = first or flat
        print(f"\n{name}  (held-out scenes: {args.scenes}, seed {args.seed}; objects "
              f"{ {t: v[0] for t, v in runs[0]['recall'].items()} })")
        for key, value in flat.items():
            ratio = f"{value / first[key]:.2f}" if isinstance(value, float) and first[key] else ""
            print(f"  {key:<26} {value!s:>12} {ratio:>6}")


if __name__ == "__main__":
    main()
