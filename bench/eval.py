"""COCO evaluation speed: pycocotools vs faster-coco-eval vs qmdb, same boxes, one process.

    python bench/eval.py                 # 5,000 images x 50 ground-truth boxes (seeded)
    python bench/eval.py --images 500    # a quicker run

The same seeded ground truth and detections (qmdb.evaluation.synthetic: COCO-like
sizes, crowd regions, empty and prediction-only images, 20 classes) go through

- pycocotools COCOeval: evaluate() + accumulate() (the baseline),
- faster-coco-eval COCOeval_faster: evaluate() + accumulate(),
- qmdb core: match() + accumulate() on the arrays,
- qmdb end to end: qmdb.evaluate() on a DuckDB project (read the tables, match,
  accumulate, write `matches` and `eval_ap` in one transaction),
- the `qmdb evaluate` command on the same project as a file: the wall time of a new
  Python process (its imports, opening the file, evaluating, writing, closing); its
  numbers are the 4 decimals it prints, so its |Δ| column reads up to 5e-5 (and, after
  the table, `qmdb --help`'s wall time: the CLI's start alone),

and the table reports each one's seconds (the least of `--repeat` runs, taken in turn: A B C D A B C D), its speed-up over pycocotools and over
faster-coco-eval and the largest difference of its 12 summary numbers from
pycocotools'. After it, the slice checks (`qmdb.evaluation.run_checks`) on the
same project: three checks (AP on everything, AP50 and recall on half the
images, each with a 200-resample image bootstrap), timed. Last, TIDE's error
breakdown (`qmdb.evaluation.find_errors` + `error_breakdown`) side by side with
the `tidecv` package on its own seeded case (`--tide-images`, default 5,000
images x 10 boxes: tidecv is pure Python), with the largest difference of the
AP and the eight dAPs (`--tide-only` runs just that). Needs the `bench` extra:
pip install -c constraints.txt -e ".[bench]".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

import qmdb
from qmdb.evaluation import accumulate, match
from qmdb.evaluation.reference import coco_dicts
from qmdb.evaluation.synthetic import detection_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "evaluation"))


def timed_cocoeval(dataset, results, backend):
    """evaluate + accumulate only (loading the COCO objects is not timed), then the summary."""
    from qmdb.evaluation import reference

    coco_module, eval_module, _ = reference._BACKENDS[backend]
    coco_mod = __import__(coco_module, fromlist=["COCO"])
    eval_mod = __import__(eval_module, fromlist=["COCOeval"])
    cls = getattr(eval_mod, "COCOeval_faster", None) or eval_mod.COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_mod.COCO()
        gt.dataset = dataset
        gt.createIndex()
        dt = gt.loadRes(results)
    return reference.timed_summary(cls(gt, dt, "bbox"))


def cli_run(gt, dt, images, n_classes) -> tuple[float, np.ndarray]:
    """`qmdb evaluate FILE --model det-model` in a new process on the case written to a file; its wall time."""
    import subprocess
    import tempfile

    from conftest import load_case

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.duckdb"
        con = qmdb.connect(path)
        load_case(con, gt, dt, images, n_classes)
        con.execute("CHECKPOINT")
        con.close()
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "qmdb.cli", "evaluate", str(path), "--model", "det-model"],
                             capture_output=True, text=True, check=True).stdout
        seconds = time.perf_counter() - start
    stats = [float(line.split()[1]) for line in out.splitlines()[1:13]]
    return seconds, np.array(stats)


def help_wall() -> float:
    """The wall time of `qmdb --help` in a new process: the CLI's start (Python, its imports, the parser)."""
    import subprocess

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qmdb.cli", "--help"], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--boxes", type=int, default=50)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-pycocotools", action="store_true", help="skip the slow baseline")
    parser.add_argument("--tide-images", type=int, default=5000, help="images of the TIDE case (10 boxes each)")
    parser.add_argument("--tide-only", action="store_true", help="run only the TIDE comparison")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each implementation; the table shows the least")
    parser.add_argument("--speed-only", action="store_true", help="only the speed table (no checks, no TIDE)")
    args = parser.parse_args()
    if args.tide_only:
        tide_section(args)
        return

    gt, dt, images = detection_case(args.seed, args.images, args.boxes, args.classes)
    print(f"{len(images)} images, {len(gt)} ground-truth boxes ({int(gt.crowd.sum())} crowd), "
          f"{len(dt)} detections, {args.classes} classes", flush=True)
    dataset, results = coco_dicts(gt, dt, images, args.classes)
    rows = []

    least = lambda runs: min(runs, key=lambda run: run[0])  # noqa: E731
    if not args.skip_pycocotools:
        seconds, base = timed_cocoeval(dataset, results, "pycocotools")
        rows.append(("pycocotools COCOeval", seconds, base))
        print(f"pycocotools: {seconds:.2f} s", flush=True)

    def faster_cocoeval() -> tuple[float, np.ndarray]:
        return timed_cocoeval(dataset, results, "faster_coco_eval")

    def core() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        acc = accumulate(gt, dt, match(gt, dt), args.classes)
        return time.perf_counter() - start, np.array(list(acc.stats().values()))

    from conftest import load_case

    con = qmdb.connect()
    load_case(con, gt, dt, images, args.classes)

    def end_to_end() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        report = qmdb.evaluate(con, "det-model", progress=False)
        return time.perf_counter() - start, np.array(list(report.stats.values()))

    contenders = {"faster-coco-eval": faster_cocoeval, "qmdb core (match + accumulate)": core,
                  "qmdb.evaluate (DuckDB in/out)": end_to_end,
                  "qmdb evaluate CLI (process wall)": lambda: cli_run(gt, dt, images, args.classes)}
    if importlib.util.find_spec("faster_coco_eval") is None:
        print("faster-coco-eval is not installed (pip install faster-coco-eval); skipped")
        del contenders["faster-coco-eval"]
    runs: dict[str, list] = {name: [] for name in contenders}
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeat):          # interleaved: A B C D, A B C D, ... (the machine's load hits all alike)
        for name, run in contenders.items():
            runs[name].append(run())
        loads.append(os.getloadavg()[0])
    rows += [(name, *least(found)) for name, found in runs.items()]
    print(f"load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")

    base_seconds, base_stats = (rows[0][1], rows[0][2]) if not args.skip_pycocotools else (None, None)
    faster = next((seconds for name, seconds, _ in rows if name == "faster-coco-eval"), None)
    print()
    print(f"| {'implementation':<32} | {'seconds':>8} | {'vs pycocotools':>14} | {'vs faster-coco-eval':>19} "
          f"| {'max |Δ| of 12 stats':>20} |")
    print(f"|{'-' * 34}|{'-' * 10}|{'-' * 16}|{'-' * 21}|{'-' * 22}|")
    for name, seconds, stats in rows:
        ratio = f"{base_seconds / seconds:.1f}x" if base_seconds else "-"
        vs_faster = f"{faster / seconds:.2f}x" if faster else "-"
        diff = f"{np.abs(stats - base_stats).max():.1e}" if base_stats is not None else "-"
        print(f"| {name:<32} | {seconds:>8.2f} | {ratio:>14} | {vs_faster:>19} | {diff:>20} |")
    print()
    print("AP, AP50, AP75 =", ", ".join(f"{v:.4f}" for v in rows[-1][2][:3]))
    print(f"CLI start (`qmdb --help`, least of {args.repeat}): {min(help_wall() for _ in range(args.repeat)):.2f} s")
    if args.speed_only:
        return

    from qmdb.evaluation import add_check, run_checks

    add_check(con, "ap_all", "ap", threshold=0.0)
    add_check(con, "ap50_even", "ap50", slice="image_id % 2 = 0", threshold=0.0)
    add_check(con, "recall_even", "recall", slice="image_id % 2 = 0", threshold=0.0, require_interval=True)
    start = time.perf_counter()
    results = run_checks(con)
    seconds = time.perf_counter() - start
    print(f"run_checks: {len(results)} checks in {seconds:.2f} s ("
          + ", ".join(f"{r.check_name} {r.value:.4f} [{r.low:.4f}, {r.high:.4f}]" for r in results) + ")")

    tide_section(args)


def tide_section(args: argparse.Namespace) -> None:
    """TIDE's breakdown: qmdb (classify, store `eval_errors`, breakdown) vs tidecv (evaluate + errors)."""
    from conftest import load_case

    from qmdb.evaluation import error_breakdown, find_errors
    from qmdb.evaluation.detection import load
    from qmdb.evaluation.reference import tidecv_run
    from qmdb.evaluation.tide import SHORT_NAMES

    gt, dt, images = detection_case(args.seed + 1, args.tide_images, 10, args.classes)
    con = qmdb.connect()
    load_case(con, gt, dt, images, args.classes)
    print(f"\nTIDE: {len(images)} images, {len(gt)} ground-truth boxes, {len(dt)} detections", flush=True)
    start = time.perf_counter()
    find_errors(con, "det-model")
    ours = error_breakdown(con, "det-model").to_arrow_table().to_pylist()[0]
    qmdb_seconds = time.perf_counter() - start
    labels, preds, _ = load(con, "det-model", "det")
    box = lambda r: [r["x"], r["y"], r["w"], r["h"]]  # noqa: E731
    lab = [(r["image_id"], r["class"], box(r), r["iscrowd"]) for r in sorted(labels.to_pylist(), key=lambda r: r["label_id"])]
    pre = [(r["image_id"], r["class"], r["score"], box(r))
           for r in sorted(preds.to_pylist(), key=lambda r: r["prediction_id"])]
    start = time.perf_counter()
    tide, run = tidecv_run(lab, pre, sorted(int(i) for i in images))
    errors = tide.get_all_errors()
    tide_seconds = time.perf_counter() - start
    theirs = {"ap": run.ap, **{n: errors["main"]["predictions"][s] for n, s in SHORT_NAMES.items()},
              "false_positives": errors["special"]["predictions"]["FalsePos"],
              "false_negatives": errors["special"]["predictions"]["FalseNeg"]}
    diff = max(abs(ours[k] - v) for k, v in theirs.items())
    print(f"| {'implementation':<40} | {'seconds':>8} | {'vs tidecv':>9} | {'max |Δ| of AP + 8 dAP':>22} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 11}|{'-' * 24}|")
    print(f"| {'tidecv (evaluate + main/special errors)':<40} | {tide_seconds:>8.2f} | {'1.0x':>9} | {'-':>22} |")
    print(f"| {'qmdb find_errors + error_breakdown':<40} | {qmdb_seconds:>8.2f} | "
          f"{tide_seconds / qmdb_seconds:>8.1f}x | {diff:>22.1e} |")
    print("AP50 (TIDE) %.2f; dAP " % ours["ap"] + ", ".join(f"{SHORT_NAMES[n]} {ours[n]:.2f}" for n in SHORT_NAMES))


if __name__ == "__main__":
    main()
