"""Check runs in the store: recording one (any engine), and reading past ones (no Great
Expectations import)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from ._report import CheckReport, DatasetRef


class CheckHistoryEntry(BaseModel):
    """One stored check run. ``success`` is None when the run itself failed."""

    model_config = ConfigDict(extra="forbid")

    run_id: int
    started: dt.datetime
    suite: str | None
    dataset: str | None
    status: str
    success: bool | None
    failed_rules: list[str]
    results: list[dict[str, Any]]
    duration_s: float | None
    error: str | None = None
    scheduled_job: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump()
        d["started"] = self.started.isoformat(timespec="seconds")
        return d


def check_history(project, *, suite: str | None = None, limit: int | None = None
                  ) -> list[CheckHistoryEntry]:
    """Check runs, newest first, optionally for one suite (its name or file stem)."""
    from pathlib import Path

    from ..core.store import Store

    name = Path(suite).stem if suite and suite.endswith((".yaml", ".yml")) else suite
    out = []
    for run in Store.for_project(project).list_runs("check"):
        if name and run.name != name:
            continue
        result = run.outputs.get("result") or {}
        rows = result.get("results") or []
        ok = result.get("success") if run.status == "succeeded" else None
        ds = result.get("dataset") or {}
        out.append(CheckHistoryEntry(
            run_id=run.id, started=run.started, suite=run.name,
            dataset=f"{ds['name']}@{ds['version']}" if ds else run.config.get("data"),
            status=run.status, success=ok,
            failed_rules=[f"{r['expectation']}({r['column']})" if r.get("column")
                          else r["expectation"] for r in rows if not r.get("success")],
            results=[{"expectation": r["expectation"], "column": r.get("column"),
                      "success": r["success"], "unexpected_percent": r["unexpected_percent"]}
                     for r in rows],
            duration_s=run.duration_s, error=run.error,
            scheduled_job=run.config.get("scheduled_job")))
        if limit and len(out) >= limit:
            break
    return out


def record_check(project, suite, suite_path, *, data: str, ref: DatasetRef, digest: str,
                 dv, engine: str, run, data_docs: bool = False,
                 extra_config: dict | None = None) -> tuple[CheckReport, int]:
    """Run ``run(data_docs_dir)`` inside a stored "check" run (any engine) and link lineage."""
    from ..core.output import to_jsonable
    from ..core.store import Store

    config = {"suite": suite.name, "suite_path": str(suite_path), "data": data,
              "engine": engine, "rules": len(suite.expectations), **(extra_config or {})}
    if os.environ.get("WORKBENCH_SCHEDULE_JOB"):
        config["scheduled_job"] = os.environ["WORKBENCH_SCHEDULE_JOB"]
    store = Store.for_project(project)
    docs_dir = project.state / "data_docs" if data_docs else None
    with store.record("check", name=suite.name, config=config,
                      input_hashes={"dataset": digest, "suite": suite.digest}) as out:
        report = run(docs_dir)
        # observed values and examples can hold numpy scalars (int64 ids, Spark values)
        out.update(to_jsonable({"success": report.success, "result": report.to_dict(),
                                "details": report.details(),
                                "dataset_ref": f"{ref.name}@{ref.version}"}))
        if docs_dir is not None:
            out["data_docs"] = str(docs_dir / "index.html")
        run_id = out["run_id"]
    if dv is not None:
        store.add_lineage(("dataset", dv.ref), ("run", run_id), "check")
    return report, run_id
