"""Sign-off: a named reviewer's decision on a before/after report, kept in the store.

A decision (approve, reject, probe more) with a comment is stored with the signatures it
covers (the report's and each compared run's) and the runs it is about, so it cannot be
mistaken for a sign-off of other data, and so the model card of the fine-tuned run can
carry it (:func:`refresh_model_card`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, NotFoundError

DECISIONS = ("approve", "reject", "probe more")
#: the reports a sign-off applies to: before/after comparisons of probe runs
SIGNABLE = ("bias-compare",)
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Signoff:
    """One decision on one report."""

    id: int
    report_id: int
    reviewer: str
    decision: str
    comment: str | None
    signatures: dict[str, str]
    runs: list[int]
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "report_id": self.report_id, "reviewer": self.reviewer,
                "decision": self.decision, "comment": self.comment,
                "signatures": self.signatures, "runs": self.runs,
                "created": self.created.isoformat(timespec="seconds")}


def covers_path(report_path: str | Path) -> Path:
    """The file beside a before/after report that names what it covers (signatures, runs)."""
    p = Path(report_path)
    return p.with_name(p.stem + ".covers.json")


def write_covers(report_path: str | Path, cmp: dict[str, Any]) -> Path:
    """Note beside a before/after report the signatures and runs a sign-off would cover."""
    sides = {k: cmp.get(k) or {} for k in ("before", "after")}
    covers = {"signatures": {"report": cmp.get("signature"),
                             **{k: s.get("signature") for k, s in sides.items()}},
              "runs": {k: s.get("run_id") for k, s in sides.items()},
              "models": {k: s.get("model") for k, s in sides.items()}}
    path = covers_path(report_path)
    path.write_text(json.dumps(covers, indent=2), encoding="utf-8")
    return path


def _find_report(store, report: int | str) -> dict:
    text = str(report).strip()
    if text.lstrip("#").isdigit():
        try:
            return store.get_report(int(text.lstrip("#")))
        except NotFoundError:
            pass
    else:
        want = Path(text).resolve()
        for r in store.list_reports():
            if Path(r["path"]).resolve() == want:
                return r
    found = [f"{r['id']} ({Path(r['path']).name})" for r in store.list_reports()
             if r["kind"] in SIGNABLE][:10]
    raise NotFoundError(f"report: no report '{report}'; before/after reports: "
                        + (", ".join(found) if found else "none yet (make one with "
                           "bias-report)"), param="report")


def _check(reviewer: str, decision: str, comment: str | None) -> tuple[str, str, str | None]:
    reviewer = " ".join(str(reviewer or "").split())
    if not reviewer:
        raise ConfigError("reviewer: a name is required: a sign-off says who decided",
                          param="reviewer")
    if len(reviewer) > 100:
        raise ConfigError(f"reviewer: at most 100 characters, got {len(reviewer)}",
                          param="reviewer")
    dec = " ".join(str(decision or "").replace("-", " ").replace("_", " ").lower().split())
    if dec not in DECISIONS:
        raise ConfigError(f"decision: must be one of {', '.join(DECISIONS)}; got "
                          f"{decision!r}", param="decision")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise ConfigError(f"comment: at most {MAX_COMMENT} characters, got {len(comment)}",
                          param="comment")
    return reviewer, dec, comment


def sign_off(project, report: int | str, *, reviewer: str, decision: str,
             comment: str | None = None) -> Signoff:
    """Record ``reviewer``'s ``decision`` on a before/after report (its id or file).

    Parameters
    ----------
    report
        The report's id in the store (as the Reports page lists it) or its file.
    decision
        ``approve``, ``reject`` or ``probe more``.
    """
    from ..core.store import Store

    reviewer, decision, comment = _check(reviewer, decision, comment)
    store = Store.for_project(project)
    row = _find_report(store, report)
    if row["kind"] not in SIGNABLE:
        raise ConfigError(f"report: report {row['id']} is a {row['kind']} report; a sign-off "
                          "is a decision on a before/after (bias-report) report",
                          param="report")
    covers = {}
    side = covers_path(row["path"])
    if side.is_file():
        covers = json.loads(side.read_text(encoding="utf-8"))
    signatures = {k: v for k, v in (covers.get("signatures") or {}).items() if v}
    signatures["report"] = row["signature"]
    runs = [int(r) for r in (covers.get("runs") or {}).values() if r is not None]
    sid = store.add_signoff(report_id=row["id"], reviewer=reviewer, decision=decision,
                            comment=comment, signatures=signatures, runs=runs)
    return next(s for s in signoffs(project, row["id"]) if s.id == sid)


def signoffs(project, report_id: int | None = None) -> list[Signoff]:
    """Sign-offs, newest first: of one report, or all of them."""
    from ..core.store import Store

    return [Signoff(**r) for r in Store.for_project(project).list_signoffs(report_id)]


def signable_reports(project) -> list[dict]:
    """The before/after reports a reviewer can sign off, newest first."""
    from ..core.store import Store

    return [r for r in Store.for_project(project).list_reports() if r["kind"] in SIGNABLE]


__all__ = ["DECISIONS", "SIGNABLE", "Signoff", "covers_path", "sign_off", "signable_reports",
           "signoffs", "write_covers"]
