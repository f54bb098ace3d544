"""CLI commands, one module each: `NAME`, `HELP`, `configure(parser)`, `run(args) -> int`; the modules
are named by the `qmdb_commands` hook (`qmdb.builtins` for these, a plugin for its own).

`COMMANDS` is the built-in commands and their help, so that `qmdb --help` lists them without importing
one: a command's module (`module_of`) is imported only when that command runs or shows its own help.
"""

from __future__ import annotations

import keyword

COMMANDS: dict[str, str] = {
    "init": "create a project database, or migrate one and re-create the tables and views it lacks",
    "sql": "run a SQL query (read-only unless --write) and print a table, or write CSV / JSON lines / Parquet",
    "tables": "list tables, their row counts and columns",
    "views": "list, show, run, save or delete views (built-in and saved)",
    "import": "import a dataset (coco, yolo, voc, folders, table, a plugin's format), a model's predictions, or per-image metadata",
    "export": "export the images/labels a query, view or tag selects as COCO JSON, a YOLO folder, a CVAT or Label Studio task",
    "metrics": "compute image and label quality metrics (incremental, resumable)",
    "serve": "serve a project over HTTP: tables, views, SQL, snapshots and images (needs the 'server' extra)",
    "snapshot": "freeze a view's result (with its parameters and versions); list, show, diff or delete snapshots",
    "tag": "tag images, labels or predictions (reviewed, fixed, rejected, …), or list tags",
    "embed": "embed images (and with --labels their label and prediction boxes); update the usearch index",
    "evaluate": "match a model's predictions to the labels (COCO's rules) and print its summary; --where gives a slice",
    "check": "run the stored slice checks (the checks table); exit 1 when one fails, --junit FILE for CI",
    "demo": "build demo.duckdb from real images (digits, photographs) with real models' predictions, and show it",
    "gallery": "write a view's or a query's images, with their boxes, as one self-contained HTML file",
    "plot": "draw a plot: histogram, scatter, by-metric, importance, confusion, pr, calibration (PNG/SVG/PDF; needs the 'plot' extra)",
    "report": "dataset health: issues per type and severity, the worst examples, the next command for each",
    "compare": "compare two datasets, splits or WHEREs over images i: metric drift (KS, PSI), label statistics, an embedding MMD test",
    "cluster": "cluster a model's vectors (k-means or HDBSCAN: table clusters) and group near-duplicates (table duplicate_groups)",
    "map": "lay a model's vectors out in 2-D (UMAP with the 'map' extra, else PCA: table embedding_map); -o map.html",
    "history": "label history: versions, batches, a diff between two times or snapshots, undo a batch",
    "fix": "apply (or reject) what a label-error view suggests, as label versions; --dry-run shows them first",
    "annotate": "send a view, query or tag to CVAT / Label Studio; load the annotators' corrections back as label changes",
}


def module_of(name: str) -> str:
    """The module of a built-in command (`import_` for `import`, a Python keyword).

    >>> module_of("import"), module_of("evaluate")
    ('qmdb.commands.import_', 'qmdb.commands.evaluate')
    """
    return f"{__name__}.{name}_" if keyword.iskeyword(name) else f"{__name__}.{name}"
