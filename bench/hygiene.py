"""Dataset health at scale, and qmdb's flags against CleanVision's on real photos.

1. The report (`qmdb.health.report`: `data_issues` materialized once, counted, ranked, the split
   checks) on N synthetic image rows with precomputed metrics (`qmdb.health.synthetic`: copies
   across splits, a darkened and blurred subset, a class missing from test), beside the same nine
   CleanVision rules and the IQR outliers written in pandas over the same metric columns (the
   baseline a notebook user writes; its counts must equal qmdb's). Best of `--repeat`, one process.
2. The agreement table, per issue type: images both flag, only qmdb, only CleanVision, on
   scikit-learn's and scikit-image's photos and faulty copies (`qmdb.health.photos`), CleanVision
   0.3.7 with its defaults (`pip install 'qmdb[health]'`).

    python bench/hygiene.py [--rows 100000] [--repeat 3] [--skip-agreement]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

import qmdb
from qmdb.health import agreement, report, synthetic


def pandas_flags(con) -> dict[str, int]:
    """The nine flags (at qmdb's defaults) and the IQR outliers, in pandas, from the same tables."""
    df = con.sql("SELECT i.image_id, i.dataset, i.split, i.width AS w, i.height AS h, i.sha256, m.* EXCLUDE "
                 "(image_id, versions) FROM images i JOIN image_metrics m USING (image_id)").df()
    counts = {}
    counts["dark"] = int((np.clip(df.brightness + 2.33 * df.contrast, 0, 1) < 0.32).sum())
    counts["light"] = int((1 - np.clip(df.brightness - 1.645 * df.contrast, 0, 1) < 0.05).sum())
    counts["blurry"] = int((1 - np.exp(-0.1 * np.sqrt(df.sharpness.clip(lower=0))) < 0.29).sum())
    bits = df.entropy + np.where(df.is_grayscale.fillna(False).astype(bool), 0, np.log2(3))
    counts["low_information"] = int((np.minimum(1, 0.1 * bits) < 0.3).sum())
    counts["odd_aspect_ratio"] = int((np.minimum(df.w, df.h) / np.maximum(df.w, df.h) < 0.35).sum())
    size = np.sqrt(df.w.astype(float) * df.h)
    q1, q3 = size.groupby(df.dataset).transform(lambda s: s.quantile(0.25)), size.groupby(df.dataset).transform(
        lambda s: s.quantile(0.75))
    low, high = q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)
    norm = np.where(high > low, high - low, (low + high) / 2)
    score = 1 - np.minimum(1, np.abs(size - (low + high) / 2) / norm)
    counts["odd_size"] = int((score < np.where(high > low, 0.5, 1.0)).sum())
    counts["grayscale"] = int(df.is_grayscale.fillna(False).astype(bool).sum())
    counts["exact_duplicates"] = int((df.groupby(["dataset", "sha256"]).image_id.transform("size") > 1).sum())
    # equal phash, other bytes
    same_hash = df.groupby(["dataset", "phash"]).sha256.transform("nunique") > 1
    counts["near_duplicates"] = int(same_hash.sum())
    numeric = [c for c in df.columns if c not in ("image_id", "phash", "w", "h") and pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
    outliers = 0
    for c in numeric:
        v = df[c].dropna()
        q1, q3 = v.quantile(0.25), v.quantile(0.75)
        outliers += int(((v < q1 - 1.5 * (q3 - q1)) | (v > q3 + 1.5 * (q3 - q1))).sum())
    counts["outliers"] = outliers
    return counts


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def scale(rows: int, repeat: int) -> None:
    con = qmdb.connect()
    start = time.perf_counter()
    synthetic.project(con, rows, seed=0, copies=rows // 1000, degraded=rows // 500, drop_class="c3")
    print(f"synthetic project: {rows:,} images with metrics in {time.perf_counter() - start:.1f} s\n")

    def qmdb_report():
        summaries = report.summarize(con, examples=5)
        splits = report.split_findings(con)
        report.text(summaries, title="bench", splits=splits)
        return summaries

    def qmdb_flags():
        rows_ = con.sql("SELECT CASE WHEN issue_type LIKE 'outlier_%' THEN 'outliers' ELSE issue_type END, "
                        "count_if(is_issue) FROM data_issues() WHERE source_view LIKE 'issues_%' GROUP BY 1").fetchall()
        return dict(rows_)

    t_report, summaries = best(qmdb_report, repeat)
    t_flags, ours = best(qmdb_flags, repeat)
    t_pandas, theirs = best(lambda: pandas_flags(con), repeat)
    print(f"{'step':<46} {'seconds':>8}")
    print(f"{'qmdb report (data_issues, ranks, split checks)':<46} {t_report:>8.2f}")
    print(f"{'qmdb flags + IQR outliers (data_issues counts)':<46} {t_flags:>8.2f}")
    print(f"{'pandas, the same flags + IQR outliers':<46} {t_pandas:>8.2f}")
    print(f"{'ratio qmdb flags / pandas':<46} {t_flags / t_pandas:>8.2f}\n")
    print(f"{'flag':<18} {'qmdb':>8} {'pandas':>8}")
    for name in sorted(theirs):
        print(f"{name:<18} {ours.get(name, 0):>8} {theirs[name]:>8}" + ("" if ours.get(name, 0) == theirs[name] else "  DIFFERS"))
    print(f"\nissue types in the report: {len(summaries)}; issues: {sum(s.issues for s in summaries):,}")


def agreement_table() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        con, root = agreement.build(folder)
        rows = agreement.agreement(con, "photos", root)
        images = con.sql("SELECT count(*) FROM images").fetchall()[0][0]
        print(f"\nagreement with CleanVision on {images} photos and copies "
              f"({time.perf_counter() - start:.0f} s: import, metrics, CleanVision):")
        print(agreement.format_table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-agreement", action="store_true")
    args = parser.parse_args()
    scale(args.rows, args.repeat)
    if not args.skip_agreement:
        agreement_table()


if __name__ == "__main__":
    main()
