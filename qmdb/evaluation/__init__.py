"""Per-slice model evaluation: COCO-exact matching into the `matches` table, and the views over it.

`evaluate(con, model)` matches a model's predictions to the labels (COCOeval's
rules for boxes; top-1 for classifiers) and writes `matches`, `eval_ap` and
`evaluations`; the `eval_*` views in `sql/` read them. `slice(con, where=...)`
gives any slice's numbers with confidence intervals; `add_check` / `run_checks`
store slice checks and gate on them (`qmdb check`).
"""

from . import schema  # noqa: F401  (registers the tables)
from .accumulate import Accumulated, accumulate
from .checks import Check, CheckResult, add_check, junit_xml, list_checks, remove_check, run_checks
from .errors import error_breakdown, find_errors
from .figures import figures
from .matching import Boxes, Matching, match
from .run import EvalReport, evaluate
from .slices import slice

evaluate.slice = slice  # `qmdb.evaluate.slice(con, where=...)` reads as it should

__all__ = ["Accumulated", "Boxes", "Check", "CheckResult", "EvalReport", "Matching", "accumulate", "add_check",
           "error_breakdown", "evaluate", "figures", "find_errors", "junit_xml", "list_checks", "match", "remove_check", "run_checks", "slice"]
