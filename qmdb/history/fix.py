"""`fix`: accept (or reject) what a label-error view suggests, as one batch of label versions.

Each view that suggests a change is declared once in `SUGGESTIONS`: what accepting a row does
(an SQL select list giving `op` and the label columns to set), what a rejection tags, and the
column `min_score` compares (the suggestion's confidence, higher is surer). The view runs with
its parameters; `where` (an SQL condition on the view's columns), `min_score` and `tag` (items
tagged so) narrow its rows; each item is changed once (its most confident suggestion). Accepted
rows go through `apply_changes` with the view as the source and the view's reason on each
version; rejected ones are tagged 'rejected', which the views' `hide_reviewed` hides from then on.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import expressions as exp

from .. import views
from ..errors import InputError
from ..transaction import transaction
from .changes import apply_changes


@dataclass(frozen=True)
class Suggestion:
    accept: str          # the name of what is accepted (--accept)
    item_type: str       # what a rejection tags, and what --tag filters on
    item_id: str         # the view's column naming that item
    confidence: str      # SQL over the view's row `v`: what --min-score compares, higher is surer
    change: str          # SQL select list over `v` (and `l`, the current label, when `joins_label`)
    joins_label: bool = False
    means: str = ""


SUGGESTIONS: dict[str, Suggestion] = {
    "errors_classification": Suggestion(
        "suggested_class", "label", "label_id", "1 - v.self_confidence",
        "'update' AS op, v.label_id, v.suggested_class AS class",
        means="set the label's class to the class the model suggests"),
    "errors_bad_boxes": Suggestion(
        "suggested_box", "label", "label_id", "v.prediction_score",
        "'update' AS op, v.label_id, v.suggested_box[1] AS x, v.suggested_box[2] AS y, v.suggested_box[3] AS w, "
        "v.suggested_box[4] AS h, CASE WHEN l.polygon IS NULL AND l.mask IS NULL "
        "THEN v.suggested_box[3] * v.suggested_box[4] ELSE l.area END AS area", joins_label=True,
        means="move the box to the predicted box (its area too, for a box without polygon or mask)"),
    "errors_missing_labels": Suggestion(
        "add_label", "prediction", "prediction_id", "v.score",
        "'insert' AS op, NULL::BIGINT AS label_id, v.image_id, v.class, v.x, v.y, v.w, v.h, "
        "v.model AS annotator, 'qmdb-prediction-' || v.prediction_id AS source_id",
        means="add the predicted box as a label (annotator: the model)"),
    "errors_duplicate_boxes": Suggestion(
        "delete_duplicate", "label", "label_id", "v.iou", "'delete' AS op, v.label_id",
        means="delete the later label of the pair (label_id), keep kept_label_id"),
}


@dataclass
class FixResult:
    """What `fix` did: the batch (None for a dry run or a rejection), the changes it made or would
    make (op, label_id, the label columns, confidence, reason) and how many items it tagged rejected."""

    view: str
    batch_id: int | None
    changes: pa.Table
    rejected: int = 0

    @property
    def count(self) -> int:
        return self.changes.num_rows


def condition(where: str, view: str) -> str:
    """`where` checked to be one SQL condition (no statement, no subquery), as DuckDB SQL."""
    try:
        parsed = sqlglot.parse(f"SELECT 1 FROM v WHERE {where}", read="duckdb")
    except sqlglot.errors.ParseError as error:
        raise InputError(view, "--where", f"not an SQL condition: {str(error).splitlines()[0]}") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select) or parsed[0].args.get("where") is None:
        raise InputError(view, "--where", "one SQL condition on the view's columns, like \"class = 'cat'\"")
    clause = parsed[0].args["where"].this
    if clause.find(exp.Select, exp.Subquery, exp.Command) is not None:
        raise InputError(view, "--where", "a condition on the view's columns, without subqueries")
    return clause.sql(dialect="duckdb")


def suggestion(view: str, accept: str | None) -> Suggestion:
    if view not in SUGGESTIONS:
        raise InputError(view, "--view", f"suggests no fix; views that do: {', '.join(SUGGESTIONS)}")
    found = SUGGESTIONS[view]
    if accept is not None and accept != found.accept:
        raise InputError(view, "--accept", f"'{accept}' is not what {view} suggests; it suggests '{found.accept}'")
    return found


def suggested(con: duckdb.DuckDBPyConnection, view: str, accept: str | None = None, *, where: str | None = None,
              min_score: float | None = None, tag: str | None = None, params: dict | None = None,
              limit: int | None = None) -> pa.Table:
    """The changes accepting `view`'s suggestions would make, one row per item (no write)."""
    spec = suggestion(view, accept)
    query, values = views.get(con, view).call_sql(params)
    filters = [condition(where, view) if where else "true", "(? IS NULL OR v.confidence >= ?)",
               f"(? IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.item_type = '{spec.item_type}' "
               f"AND t.item_id = v.\"{spec.item_id}\" AND t.tag = ?))"]
    join = "LEFT JOIN labels l ON l.label_id = v.label_id" if spec.joins_label else ""
    sql = (f"WITH raw AS ({query}), v AS (SELECT *, {spec.confidence} AS confidence FROM raw v), "
           f"f AS (SELECT * FROM v WHERE {' AND '.join(filters)} "
           f"QUALIFY row_number() OVER (PARTITION BY v.\"{spec.item_id}\" ORDER BY v.confidence DESC) = 1) "
           f"SELECT {spec.change}, v.\"{spec.item_id}\" AS item_id, v.confidence, v.reason FROM f v {join} "
           f"ORDER BY v.confidence DESC, item_id" + (" LIMIT ?" if limit is not None else ""))
    bound = [*values, min_score, min_score, tag, tag] + ([limit] if limit is not None else [])
    try:
        return con.sql(sql, params=bound).to_arrow_table()
    except duckdb.Error as error:
        raise InputError(view, "--where" if where else None, str(error).splitlines()[0]) from None


def fix(con: duckdb.DuckDBPyConnection, view: str, accept: str | None = None, *, where: str | None = None,
        min_score: float | None = None, tag: str | None = None, params: dict | None = None,
        limit: int | None = None, author: str | None = None, dry_run: bool = False, reject: bool = False) -> FixResult:
    """Accept (or with `reject=True` reject) the suggestions of `view` that pass the filters.

    Accepting applies them as one batch (source: the view; reason: the view's reason per label);
    rejecting tags the items 'rejected' (note: the view and what it suggested); `dry_run` does
    neither and returns what would change."""
    spec = suggestion(view, accept)
    changes = suggested(con, view, accept, where=where, min_score=min_score, tag=tag, params=params, limit=limit)
    if dry_run or not changes.num_rows:
        return FixResult(view, None, changes)
    if reject:
        with transaction(con, _qmdb_rejected=changes.select(["item_id"])):
            con.execute("INSERT INTO tags (item_type, item_id, tag, author, note) SELECT ?, item_id, 'rejected', ?, ? "
                        "FROM _qmdb_rejected", [spec.item_type, author, f"rejected {spec.accept} of {view}"])
        return FixResult(view, None, changes, rejected=changes.num_rows)
    batch = apply_changes(con, changes.drop_columns(["item_id", "confidence"]), author=author, source=view,
                          reason=f"accepted {spec.accept} of {view}")
    return FixResult(view, batch, changes)
