"""The self-contained HTML report of a check run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..checks import CheckReport, check_counts
from ..core.digest import signature
from ._render import render, write_report

MISSING = "(missing)"  # a failing row with no value (a not-null rule's), never NaN or null


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if pd.api.types.is_scalar(value) and pd.isna(value):  # None, NaN, pd.NA, pd.NaT
        return MISSING
    return json.dumps(value, ensure_ascii=False, default=str)


def _signature(report: CheckReport, digest: str | None = None) -> str:
    return signature(data=f"{report.dataset.name}@{report.dataset.version}",
                     suite=report.suite, suite_hash=(digest or "")[:12], engine=report.engine)


def render_check_html(report: CheckReport, *, run_id: int | None = None,
                      suite_digest: str | None = None, data_docs: str | None = None) -> str:
    """Render ``report`` (every value escaped by the template's autoescape)."""
    rows = []
    for r in report.results:
        examples = []
        for ex in r.examples:
            if isinstance(ex, dict) and "value" in ex:
                extra = {k: v for k, v in ex.items() if k not in ("row", "value")}
                examples.append({"row": "" if ex.get("row") is None else _text(ex.get("row")),
                                 "value": _text(ex["value"]),
                                 "extra": _text(extra) if extra else ""})
            else:
                examples.append({"row": "", "value": _text(ex), "extra": ""})
        rows.append({"r": r, "label": r.label, "examples": examples,
                     "kwargs": _text({k: v for k, v in r.kwargs.items() if k != "column"}),
                     "observed": "" if r.observed is None else _text(r.observed)})
    return render("check.html", title=f"Check: {report.suite} on {report.dataset.name}",
                  subtitle=f"{report.dataset.name}@{report.dataset.version}, "
                           f"{report.dataset.rows} rows",
                  report=report, rows=rows, run_id=run_id, data_docs=data_docs,
                  counts=check_counts(report),
                  signature_text=_signature(report, suite_digest))


def write_check_html(project, report: CheckReport, out: str | os.PathLike | None, *,
                     run_id: int | None = None, suite_digest: str | None = None,
                     data_docs: str | None = None) -> Path:
    """Render and save the report (default under ``reports/``); register it in the store."""
    html = render_check_html(report, run_id=run_id, suite_digest=suite_digest,
                             data_docs=data_docs)
    return write_report(project, html, out, kind="check",
                        title=f"Check: {report.suite} on {report.dataset.name}",
                        signature_text=_signature(report, suite_digest), run_id=run_id)
