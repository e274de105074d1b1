"""Past check runs from the store (no Great Expectations import)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


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

    from ..store import Store

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
