"""Data-quality checks: YAML suites of Great Expectations expectations and
text-aware workbench rules, run for real through Great Expectations.

Loading, the text rules and reporting are engine-independent; only ``_gx`` imports
Great Expectations (lazily), so importing this package stays light.
"""

from __future__ import annotations

from . import _conversations  # noqa: F401  (registers the conversation rules)
from ._history import CheckHistoryEntry, check_history
from ._html import render_check_html, write_check_html
from ._report import CheckReport, CheckResult, DatasetRef
from ._rules import RULES, register_rule
from ._run import check_dataset, run_checks
from ._suite import (
    CleanStepSpec, ExpectationSpec, SuiteSpec, check_columns, find_suite, list_suites,
    load_suite,
)

__all__ = ["CheckHistoryEntry", "CheckReport", "CheckResult", "CleanStepSpec", "DatasetRef",
           "ExpectationSpec", "RULES", "SuiteSpec", "check_columns", "check_dataset",
           "check_history", "find_suite", "list_suites", "load_suite", "register_rule",
           "render_check_html", "run_checks", "write_check_html"]
