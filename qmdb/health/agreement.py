"""qmdb's issue flags against CleanVision's on the same files: per issue type, how many images both
flag, only qmdb flags, only CleanVision flags (tests/health and bench/hygiene.py print and hold it).

CleanVision is optional (`pip install 'qmdb[health]'`); qmdb's side needs only its metrics.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

# qmdb's view → CleanVision's issue type (the same names)
ISSUE_TYPES = ("dark", "light", "blurry", "low_information", "odd_aspect_ratio", "odd_size", "grayscale",
               "exact_duplicates", "near_duplicates")


def qmdb_flags(con: duckdb.DuckDBPyConnection, dataset: str) -> pa.Table:
    """(path, issue_type, is_issue) of every image of `dataset` under each view's defaults."""
    union = " UNION ALL ".join(f"SELECT * FROM issues_{name}(dataset_name := $dataset)" for name in ISSUE_TYPES)
    return con.sql(f"SELECT i.path, f.issue_type, f.is_issue FROM ({union}) f "
                   "JOIN images i ON i.image_id = f.item_id", params={"dataset": dataset}).to_arrow_table()


def cleanvision_flags(root: str | Path, paths: list[str]) -> pa.Table:
    """(path, issue_type, is_issue) from CleanVision's `Imagelab.find_issues` with its defaults."""
    try:
        from cleanvision import Imagelab
    except ImportError as error:  # pragma: no cover - the extra names it
        raise ImportError("CleanVision is needed for the agreement table: pip install 'qmdb[health]'") from error
    root = Path(root)
    lab = Imagelab(filepaths=[str(root / p) for p in paths])
    lab.find_issues(n_jobs=1, verbose=False)
    issues = lab.issues
    by_file = {str(Path(f).relative_to(root)): row for f, row in zip(issues.index, issues.itertuples())}
    rows = {"path": [], "issue_type": [], "is_issue": []}
    for path in paths:
        row = by_file[path]
        for name in ISSUE_TYPES:
            rows["path"].append(path)
            rows["issue_type"].append(name)
            rows["is_issue"].append(bool(getattr(row, f"is_{name}_issue")))
    return pa.table(rows)


def agreement(con: duckdb.DuckDBPyConnection, dataset: str, root: str | Path) -> list[tuple[str, int, int, int, int]]:
    """(issue_type, both, only_qmdb, only_cleanvision, neither) per issue type, in ISSUE_TYPES order."""
    ours = qmdb_flags(con, dataset)
    paths = sorted(set(ours.column("path").to_pylist()))
    theirs = cleanvision_flags(root, paths)
    rows = duckdb.sql(
        "SELECT issue_type, count_if(o.is_issue AND t.is_issue), count_if(o.is_issue AND NOT t.is_issue), "
        "count_if(NOT o.is_issue AND t.is_issue), count_if(NOT o.is_issue AND NOT t.is_issue) "
        "FROM ours o JOIN theirs t USING (path, issue_type) GROUP BY issue_type").fetchall()
    found = {r[0]: r for r in rows}
    return [found.get(name, (name, 0, 0, 0, 0)) for name in ISSUE_TYPES]


def build(folder: str | Path, db: str | Path | None = None) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """Write the photo set (`qmdb.health.photos`) under `folder`, import it as dataset `photos`
    and compute its metrics in this process; returns the connection and the images' root."""
    import qmdb

    from . import photos

    root = Path(folder) / "photos"
    photos.write(root)
    con = qmdb.connect(str(db) if db is not None else ":memory:")
    qmdb.import_dataset(con, "folders", root, name="photos")
    qmdb.compute_metrics(con, workers=0, progress=False)
    return con, root


def format_table(rows: list[tuple[str, int, int, int, int]]) -> str:
    """The agreement as a text table."""
    lines = [f"{'issue type':<18} {'both':>5} {'only qmdb':>10} {'only CleanVision':>17} {'neither':>8}"]
    lines += [f"{name:<18} {b:>5} {q:>10} {c:>17} {n:>8}" for name, b, q, c, n in rows]
    return "\n".join(lines)
