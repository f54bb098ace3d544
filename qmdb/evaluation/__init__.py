"""Per-slice model evaluation: COCO-exact matching into the `matches` table, and the views over it.

`evaluate(con, model)` matches a model's predictions to the labels (COCOeval's
rules for boxes; top-1 for classifiers) and writes `matches`, `eval_ap` and
`evaluations`; the `eval_*` views in `sql/` read them. `slice(con, where=...)`
gives any slice's numbers with confidence intervals; `add_check` / `run_checks`
store slice checks and gate on them (`qmdb check`).

The names below load their module on first use, so a command that needs one
of them (`qmdb evaluate`, `qmdb check`) does not import the others.
"""

from __future__ import annotations

import importlib

from . import schema  # noqa: F401  (registers the tables)
# Eager: these functions share their module's name, which importing the module would bind here instead.
from .accumulate import accumulate
from .figures import figures

_WHERE = {
    "Accumulated": "accumulate",
    "Check": "checks", "CheckResult": "checks", "add_check": "checks", "junit_xml": "checks",
    "list_checks": "checks", "remove_check": "checks", "run_checks": "checks",
    "error_breakdown": "errors", "find_errors": "errors",
    "Boxes": "matching", "Matching": "matching", "match": "matching",
    "EvalReport": "run", "evaluate": "run",
    "slice": "slices",
}

__all__ = sorted([*_WHERE, "accumulate", "figures"])


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'qmdb.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    if name == "evaluate" and not hasattr(value, "slice"):
        # `qmdb.evaluate.slice(con, where=...)` reads as it should
        value.slice = importlib.import_module(".slices", __name__).slice
    globals()[name] = value
    return value
