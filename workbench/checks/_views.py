"""What a front end shows of check runs: the headline, one label per rule, failing
examples as text, and the trend over a dataset's versions (its cleaned copies included)."""

from __future__ import annotations

from typing import Any


def rule_label(i: int, r: dict[str, Any]) -> str:
    """``3. expect_column_values_to_not_be_null (answer)``."""
    return f"{i}. {r['expectation']}" + (f" ({r['column']})" if r.get("column") else "")


def headline(entry, outputs: dict[str, Any]) -> tuple[str, str]:
    """(tone, text) for a stored check run (``outputs`` is the run's outputs), counted by
    :func:`check_counts` as the CLI and the report count: ``FAILED: 11 of 18 rules (7
    passed) on support_raw@1a2b (365 rows) · run 3, ...``, or the run's own error."""
    from ._counts import check_counts

    when = f"run {entry.run_id}, {entry.started:%Y-%m-%d %H:%M} UTC"
    if entry.success is None:
        return "error", f"Run {entry.run_id} failed: {entry.error}"
    counts = check_counts(outputs)
    ds = (outputs.get("result") or {}).get("dataset") or {}
    on = (f" on {ds['name']}@{ds['version']} ({ds['rows']} rows)"
          if {"name", "version", "rows"} <= set(ds) else "")
    if counts.success:
        return "success", f"{counts.headline}{on} · {when}"
    extra = f"; {counts.errored} could not run" if counts.errored else ""
    return "error", f"{counts.headline} ({counts.passed} passed{extra}){on} · {when}"


def data_docs_of(outputs: dict[str, Any]) -> str | None:
    """The Great Expectations Data Docs a stored check run built (its recorded
    ``data_docs`` path, while the file is there), else None: a run that built none never
    links docs an earlier run left in the state folder.

    >>> data_docs_of({"run_id": 3}) is None
    True
    """
    from pathlib import Path

    path = outputs.get("data_docs")
    return str(path) if path and Path(path).is_file() else None


def failing_rows(result: Any, k: int = 5) -> str:
    """The first ``k`` failing row ids of a rule's result (a dict or a ``CheckResult``),
    ``r12, r40 ...`` (``...`` when there are more); empty when it names none.

    >>> failing_rows({"unexpected_count": 7, "examples": [{"row": "a"}, {"row": "b"}]})
    'a, b ...'
    """
    get = (result.get if isinstance(result, dict)
           else lambda key, default=None: getattr(result, key, default))
    examples = get("examples") or []
    rows = [str(e["row"]) for e in examples[:k] if isinstance(e, dict) and e.get("row") is not None]
    if not rows:
        return ""
    return ", ".join(rows) + (" ..." if (get("unexpected_count") or 0) > len(rows) else "")


def example_rows(examples: list) -> list[dict[str, str]]:
    """Failing examples as rows of text: a conversation as ``role: content | ...``, other
    lists and objects as JSON, any other value as its ``str``.

    >>> example_rows([{"row": "c1", "value": [{"role": "user", "content": "Hi"}],
    ...                "pii": ["email"]}])
    [{'row': 'c1', 'value': 'user: Hi', 'pii': '["email"]'}]
    """
    import json

    from ..data import render_turns

    def text(v) -> str:
        if v is None:
            return ""
        if isinstance(v, list) and v and all(isinstance(t, dict) for t in v):
            return render_turns(v)
        if isinstance(v, (list, dict)):
            return json.dumps(v, ensure_ascii=False, default=str)
        return str(v)

    return [{k: text(v) for k, v in (e.items() if isinstance(e, dict) else {"value": e}.items())}
            for e in examples]


def dataset_family(project, ref: str) -> set[str]:
    """The dataset name of ``ref`` and the names it was cleaned from (``support_clean``
    comes from ``support_raw``), so a trend shows the check before and after a clean."""
    from ..core.store import Store

    names = {ref.split("@")[0]}
    cleans = Store.for_project(project).list_runs("clean", status="succeeded")
    for _ in range(10):  # a short chain of cleans; stop at a fixed point
        more = {str(r.outputs.get("parent") or "").split("@")[0] for r in cleans
                if str(r.outputs.get("result") or "").split("@")[0] in names}
        if more <= names:
            break
        names |= more
    return names - {""}


def trend(project, suite: str, ref: str) -> list:
    """Completed checks with ``suite`` of the dataset family of ``ref``, oldest first."""
    from ._history import check_history

    family = dataset_family(project, ref)
    return [h for h in check_history(project, suite=suite)
            if h.success is not None and (h.dataset or "").split("@")[0] in family][::-1]


def trend_rows(history: list) -> tuple[list[dict], list[dict]]:
    """(one row per check: rules failed; one row per check and rule: unexpected %)."""
    overall = [{"check": h.run_id, "dataset": h.dataset,
                "started (UTC)": f"{h.started:%Y-%m-%d %H:%M:%S}",
                "rules failed": len(h.failed_rules)} for h in history]
    per_rule = [{"check": h.run_id, "dataset": h.dataset, "rule": rule_label(i + 1, r),
                 "unexpected %": r.get("unexpected_percent"), "passed": bool(r.get("success"))}
                for h in history for i, r in enumerate(h.results)]
    return overall, per_rule


def clean_step_rows(steps: list[dict]) -> list[dict]:
    """What each clean step removed or changed, with a few example row ids."""
    return [{"#": s["index"], "rule": s["type"], "removed": s["rows_removed"],
             "changed": s["rows_changed"],
             "example rows": ", ".join(str(e.get("row")) for e in s["examples"][:5])}
            for s in steps]


__all__ = ["clean_step_rows", "data_docs_of", "dataset_family", "example_rows", "headline",
           "rule_label", "trend", "trend_rows"]
