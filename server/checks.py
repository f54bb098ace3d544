"""Slice checks over HTTP: list them and their results; run them (write mode, with the token).

- `GET /checks`: the stored checks (`checks`).
- `GET /checks/results?run=&check=&model=`: rows of `check_runs`, the latest run by default
  (`run=all` for the whole history).
- `POST /checks/run` `{"model": ..., "baseline": ..., "names": [...], "run": ..., "n_boot": 200}`: runs them as
  `qmdb check` does, records the results and answers them with `passed` (false when one
  failed). Mounted only when the server allows writes, behind the write token; a read-only
  server answers 403.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field

from qmdb.evaluation import junit_xml, list_checks, run_checks

from . import errors

read_router = APIRouter(tags=["checks"])

_RESULTS = """
    SELECT * EXCLUDE (ran_at), CAST(ran_at AS VARCHAR) AS ran_at FROM check_runs
    WHERE ($run = 'all' OR ($run IS NULL AND run_id = (SELECT max(run_id) FROM check_runs)) OR run = $run)
      AND ($check IS NULL OR check_name = $check) AND ($model IS NULL OR model = $model)
    ORDER BY run_id, check_name, model
"""


class RunChecks(BaseModel):
    model: str | list[str] | None = Field(None, description="the model(s); default: each check's model, else every evaluated one")
    baseline: str | None = Field(None, description="a model or an earlier run's name to compare with")
    names: list[str] | None = Field(None, description="only these checks")
    run: str | None = Field(None, description="a name for this run (a later baseline)")
    n_boot: int = Field(200, ge=1, le=10_000, description="bootstrap resamples of each interval")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="the bootstrap's seed")
    junit: bool = Field(False, description="also answer the results as JUnit XML (`junit` field)")


@read_router.get("/checks", summary="The stored slice checks")
def get_checks(request: Request) -> dict:
    rows = request.app.state.qmdb.read(lambda cursor: [dataclasses.asdict(c) for c in list_checks(cursor)])
    return {"checks": rows}


@read_router.get("/checks/results", summary="Check results: the latest run, a named run, or all (`run=all`)")
def get_results(request: Request, run: str | None = Query(None, description="a run's name, or 'all'"),
                check: str | None = Query(None), model: str | None = Query(None)) -> dict:
    def read(cursor):
        rel = cursor.sql(_RESULTS, params={"run": run, "check": check, "model": model})
        return [dict(zip(rel.columns, row)) for row in rel.fetchall()]

    return {"results": request.app.state.qmdb.read(read)}


def _post_run(request: Request, body: RunChecks) -> dict:
    from .writes import _write

    results = _write(request, lambda cursor: run_checks(cursor, model=body.model, baseline=body.baseline,
                                                        names=body.names, run=body.run, n_boot=body.n_boot,
                                                        seed=body.seed))
    out = {"passed": all(r.status != "fail" for r in results),
           "results": [dataclasses.asdict(r) for r in results]}
    return out | ({"junit": junit_xml(results)} if body.junit else {})


def mount(app: FastAPI) -> None:
    """Add the check routes to `app`: the reads always, the run behind the write token (a read-only
    server answers it 403, with the other write routes: `server.app.READ_ONLY_WRITES`)."""
    app.include_router(read_router)
    if app.state.qmdb.settings.allow_writes:
        from .writes import require_write_token

        app.add_api_route("/checks/run", _post_run, methods=["POST"], tags=["checks"], status_code=200,
                          dependencies=[Depends(require_write_token)], summary="Run the checks and record the results")
