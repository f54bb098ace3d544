"""Label-error finding: which labels are probably wrong or missing.

The work is done by the views of `sql/errors_*.sql` (confident learning,
neighbour disagreement, detection checks and box linters); this package is
their Python entry point plus the tools to measure them against known noise.

>>> import qmdb
>>> con = qmdb.connect()
>>> find_label_errors(con, "no-such-model").fetchall()
[]
"""

from __future__ import annotations

import duckdb

from .. import views
from .arrays import load_classification
from .noise import flip_labels

RANK_BY = ("self_confidence", "normalized_margin")


def find_label_errors(con: duckdb.DuckDBPyConnection, model: str | None = None, *,
                      rank_by: str = "self_confidence", min_examples_per_class: int = 1,
                      hide_reviewed: bool = True) -> duckdb.DuckDBPyRelation:
    """Image-level labels that are probably wrong, by confident learning over `model`'s out-of-fold probabilities.

    Runs the view `errors_classification` (the decisions of cleanlab's
    ``find_label_issues`` with ``filter_by='prune_by_noise_rate'``); returns a
    relation with one row per issue, worst first: ``label_id``, ``class``,
    ``suggested_class``, ``self_confidence``, ``normalized_margin``, ``score``,
    ``rank`` and a ``reason``.

    Args:
        model: the classifier whose `predictions.probs` to use; None runs each one.
        rank_by: ``self_confidence`` or ``normalized_margin`` (lower is worse).
        min_examples_per_class: classes with this many labels or fewer are never pruned.
        hide_reviewed: leave out labels tagged reviewed, fixed or rejected.
    """
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got '{rank_by}'")
    return views.run(con, "errors_classification", model_name=model, rank_by=rank_by,
                     min_examples_per_class=min_examples_per_class, hide_reviewed=hide_reviewed)


__all__ = ["find_label_errors", "flip_labels", "load_classification", "RANK_BY"]
