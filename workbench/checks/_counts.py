"""The headline counts of a check run, computed once for the report, the CLI and the app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CheckCounts:
    """How many rules a check run had, passed and failed (a rule that errored failed)."""

    rules: int
    passed: int
    failed: int
    errored: int

    @property
    def success(self) -> bool:
        return self.failed == 0

    @property
    def headline(self) -> str:
        """``PASSED: all 18 rules`` or ``FAILED: 11 of 18 rules``."""
        if self.success:
            return f"PASSED: all {self.rules} rules"
        return f"FAILED: {self.failed} of {self.rules} rules"

    def to_dict(self) -> dict[str, int]:
        return {"rules": self.rules, "passed": self.passed, "failed": self.failed,
                "errored": self.errored}


def check_counts(results: Any) -> CheckCounts:
    """Count the rules of a check run.

    ``results`` is a :class:`CheckReport`, its ``results`` list, the result JSON
    (``{"results": [{"success": ...}, ...]}`` or that list) or a stored check run's
    ``outputs``, so the report of a fresh run and a page reading the store count the
    same way.

    >>> c = check_counts({"results": [{"success": True}, {"success": False},
    ...                               {"success": False, "error": "no column 'x'"}]})
    >>> c.headline, c.passed, c.errored
    ('FAILED: 2 of 3 rules', 1, 1)
    """
    details: Sequence[Any] = ()
    if hasattr(results, "results"):
        results = results.results
    elif isinstance(results, Mapping):
        if "result" in results:  # a stored check run's outputs: errors are in its details
            details = results.get("details") or ()
            results = results["result"] or {}
        results = results.get("results") or []
    rows: Sequence[Any] = list(results)

    def get(r, key):
        return r.get(key) if isinstance(r, Mapping) else getattr(r, key, None)

    passed = sum(bool(get(r, "success")) for r in rows)
    errors = [get(d, "error") for d in details] if details else [get(r, "error") for r in rows]
    errored = sum(1 for r, e in zip(rows, errors) if not get(r, "success") and e)
    return CheckCounts(rules=len(rows), passed=passed, failed=len(rows) - passed,
                       errored=errored)
