"""Slice checks: a slice, a figure and a bar it must clear, stored in the project and run in CI.

A check (a row of `checks`) names a slice (a WHERE condition over the slice
context of `qmdb.evaluation.slices`, or a saved view whose `image_id` column
lists the slice's images; neither: everything), a figure of
`qmdb.evaluation.figures`, a comparison (`op` against `threshold`, and/or
against a baseline with `max_drop`: `value >= baseline - max_drop` for `>=`),
a minimum support (images in the slice) and `require_interval`: the bootstrap
interval's near end (the low end for `>=`/`>`, the high end for `<=`/`<`)
must clear the bar, not only the point. The baseline is a model (evaluated on
the same slice) or the name of an earlier run in `check_runs` (its stored
value for that check and model). `run_checks` records every result in
`check_runs` under one run id and returns them.

>>> import qmdb
>>> con = qmdb.connect()
>>> add_check(con, "recall_overall", "recall", threshold=0.5).name
'recall_overall'
>>> [c.name for c in list_checks(con)]
['recall_overall']
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, fields

import duckdb

from ..errors import QmdbError
from ..transaction import transaction
from .figures import CLASSIFICATION_ONLY, DETECTION_ONLY, FIGURES, figures
from .slices import condition_sql

IOU_TYPES = ("bbox", "segm", "keypoints")
OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


@dataclass
class Check:
    """One row of `checks`."""

    name: str
    figure: str
    description: str | None = None
    model: str | None = None
    slice: str | None = None
    view: str | None = None
    op: str = ">="
    threshold: float | None = None
    baseline: str | None = None
    max_drop: float | None = None
    min_support: int = 0
    require_interval: bool = False
    iou_threshold: float = 0.5
    min_score: float = 0.0
    iou_type: str = "bbox"


_COLUMNS = [f.name for f in fields(Check)]


@dataclass
class CheckResult:
    """One row of `check_runs`: a check on one model."""

    run_id: int
    run: str
    check_name: str
    model: str
    figure: str
    value: float | None
    low: float | None
    high: float | None
    baseline: str | None
    baseline_value: float | None
    bound: float | None
    images: int
    labels: int
    predictions: int
    status: str
    reason: str


def add_check(con: duckdb.DuckDBPyConnection, name: str, figure: str, *, replace: bool = False, **options) -> Check:
    """Store a check (options: the fields of `Check`); checked now, not at its first run."""
    check = Check(name, figure, **options)
    if figure not in FIGURES:
        raise QmdbError(f"check {name}: unknown figure '{figure}'; figures: {', '.join(FIGURES)}")
    if check.iou_type not in IOU_TYPES:
        raise QmdbError(f"check {name}: iou_type must be one of {', '.join(IOU_TYPES)}, got '{check.iou_type}'")
    if check.op not in OPS:
        raise QmdbError(f"check {name}: op must be one of {', '.join(OPS)}, got '{check.op}'")
    if check.threshold is None and check.max_drop is None:
        raise QmdbError(f"check {name}: give a threshold, or max_drop for a comparison with a baseline")
    if check.slice is not None and check.view is not None:
        raise QmdbError(f"check {name}: a slice is a condition or a saved view, not both")
    if check.slice is not None:
        check.slice = condition_sql(check.slice)
    if check.view is not None:
        from .. import views

        views.get(con, check.view)                      # an unknown view is an error now
    if not replace and con.execute("SELECT 1 FROM checks WHERE name = ?", [name]).fetchall():
        raise QmdbError(f"a check named '{name}' exists; pass replace=True to change it")
    with transaction(con):
        con.execute("DELETE FROM checks WHERE name = ?", [name])
        con.execute(f"INSERT INTO checks ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    [getattr(check, c) for c in _COLUMNS])
    return check


def list_checks(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """Every stored check, by name."""
    rows = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM checks ORDER BY name").fetchall()
    return [Check(**dict(zip(_COLUMNS, row))) for row in rows]


def remove_check(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete a check (its past results stay in `check_runs`)."""
    if not con.execute("DELETE FROM checks WHERE name = ? RETURNING name", [name]).fetchall():
        raise QmdbError(f"no check named '{name}'")


def _view_images(con: duckdb.DuckDBPyConnection, check: Check) -> list[int]:
    from .. import views

    rel = views.run(con, check.view)
    if "image_id" not in rel.columns:
        raise QmdbError(f"check {check.name}: view '{check.view}' has no image_id column to slice by")
    return [i for (i,) in rel.project("image_id").distinct().fetchall() if i is not None]


def _baseline_value(con, check: Check, baseline: str, model: str, image_ids, models: set[str], run_options) -> float | None:
    if baseline in models:
        base = figures(con, baseline, where=check.slice, image_ids=image_ids, iou_threshold=check.iou_threshold,
                       min_score=check.min_score, only=check.figure, iou_type=check.iou_type or "bbox", **run_options)
        return base.values.get(check.figure, (None,))[0]
    stored = con.execute("SELECT value FROM check_runs WHERE run = ? AND check_name = ? AND model = ? "
                         "ORDER BY run_id DESC LIMIT 1", [baseline, check.name, model]).fetchall()
    if not stored:
        runs = [r for (r,) in con.execute("SELECT DISTINCT run FROM check_runs ORDER BY 1").fetchall()]
        raise QmdbError(f"check {check.name}: baseline '{baseline}' is neither an evaluated model "
                        f"({', '.join(sorted(models)) or 'none'}) nor a run of this check on {model} "
                        f"(runs: {', '.join(runs) or 'none'})")
    return stored[0][0]


def _judge(check: Check, model: str, baseline: str | None, image_ids, con, models, run_options) -> dict:
    f = figures(con, model, where=check.slice, image_ids=image_ids, iou_threshold=check.iou_threshold,
                min_score=check.min_score, only=check.figure, iou_type=check.iou_type or "bbox", **run_options)
    out = {"check_name": check.name, "model": model, "figure": check.figure, "value": None, "low": None,
           "high": None, "baseline": None, "baseline_value": None, "bound": None,
           "images": f.images, "labels": f.labels, "predictions": f.predictions}
    not_for = DETECTION_ONLY if f.task == "classification" else CLASSIFICATION_ONLY
    if check.figure in not_for:
        return out | {"status": "skip", "reason": f"{check.figure} does not apply to a {f.task} model"}
    value, low, high = f.values[check.figure]
    out |= {"value": value, "low": low, "high": high}
    if f.images < max(check.min_support, 1):
        return out | {"status": "fail", "reason": f"support {f.images} images < min_support {check.min_support}"}
    if value is None:
        return out | {"status": "fail", "reason": f"{check.figure} is undefined on this slice"}
    higher = check.op in (">=", ">")
    tested = (low if higher else high) if check.require_interval else value
    what = ("95% interval " + ("low" if higher else "high")) if check.require_interval else check.figure
    bars = []
    if check.threshold is not None:
        bars.append((check.threshold, f"{check.threshold:g}"))
    if check.max_drop is not None:
        name = baseline or check.baseline
        if name is None:
            raise QmdbError(f"check {check.name} compares with a baseline: give one (--baseline MODEL or RUN)")
        base = _baseline_value(con, check, name, model, image_ids, models, run_options)
        out |= {"baseline": name, "baseline_value": base}
        if base is None:
            return out | {"status": "fail", "reason": f"baseline {name} has no {check.figure} on this slice"}
        bound = base - check.max_drop if higher else base + check.max_drop
        bars.append((bound, f"{name} {base:.4f} {'-' if higher else '+'} {check.max_drop:g}"))
    bound = max(b for b, _ in bars) if higher else min(b for b, _ in bars)
    out["bound"] = bound
    shown = "undefined" if tested is None else f"{tested:.4f}"
    ok = tested is not None and all(OPS[check.op](tested, b) for b, _ in bars)
    return out | {"status": "pass" if ok else "fail",
                  "reason": f"{what} {shown} {check.op if ok else 'not ' + check.op} "
                            + " and ".join(text for _, text in bars)}


def run_checks(con: duckdb.DuckDBPyConnection, *, model: str | list[str] | None = None, baseline: str | None = None,
               names: list[str] | None = None, run: str | None = None, n_boot: int = 200,
               seed: int = 0) -> list[CheckResult]:
    """Run the stored checks (all, or `names`) and record the results in `check_runs` under one run id.

    Models: `model` if given, else each check's own model, else every evaluated model. `baseline`
    (a model or an earlier run's name) serves the checks that compare with one and name none.
    """
    checks = list_checks(con)
    if names:
        unknown = sorted(set(names) - {c.name for c in checks})
        if unknown:
            raise QmdbError(f"no check named {', '.join(map(repr, unknown))}")
        checks = [c for c in checks if c.name in names]
    if not checks:
        raise QmdbError("no checks stored: add one with qmdb.evaluation.add_check(con, name, figure, ...)")
    by_type: dict[str, list[str]] = {}
    for m, t in con.execute("SELECT model, iou_type FROM evaluations ORDER BY model").fetchall():
        by_type.setdefault(t, []).append(m)
    given = [model] if isinstance(model, str) else list(model or [])
    for m in given:
        if not any(m in models for models in by_type.values()):
            raise QmdbError(f"model '{m}' has no stored matches: run `qmdb evaluate DB --model {m}` first")
    run_id = con.execute("SELECT nextval('check_run_seq')").fetchall()[0][0]
    run = run or f"run-{run_id}"
    options = {"n_boot": n_boot, "seed": seed}
    rows = []
    for check in checks:
        image_ids = _view_images(con, check) if check.view else None
        iou_type = check.iou_type or "bbox"
        evaluated = by_type.get(iou_type, [])
        for m in given or ([check.model] if check.model else evaluated):
            if m not in evaluated:
                raise QmdbError(f"check {check.name}: model '{m}' has no stored matches"
                                + (f" of iou_type '{iou_type}'" if iou_type != "bbox" else ""))
            rows.append(CheckResult(run_id, run, **_judge(check, m, baseline, image_ids, con, set(evaluated), options)))
    with transaction(con):
        for r in rows:
            values = asdict(r)
            con.execute(f"INSERT INTO check_runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                        list(values.values()))
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def junit_xml(results: list[CheckResult]) -> str:
    """The results as JUnit XML: one testsuite, a testcase per check and model, `failure` / `skipped`."""
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    suites = ET.Element("testsuites", name="qmdb check", tests=str(len(results)), failures=str(failed))
    suite = ET.SubElement(suites, "testsuite", name=f"qmdb check {results[0].run}" if results else "qmdb check",
                          tests=str(len(results)), failures=str(failed), errors="0", skipped=str(skipped))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"qmdb.checks.{r.model}", name=r.check_name)
        if r.status == "fail":
            ET.SubElement(case, "failure", message=r.reason, type="CheckFailed").text = r.reason
        elif r.status == "skip":
            ET.SubElement(case, "skipped", message=r.reason)
        ET.SubElement(case, "system-out").text = (
            f"{r.figure} = {_number(r.value)} [{_number(r.low)}, {_number(r.high)}] on {r.images} images, "
            f"{r.labels} labels, {r.predictions} predictions; {r.reason}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
