"""Data-quality checks: YAML suites of Great Expectations expectations and
text-aware workbench rules, run for real through Great Expectations; on a schedule too.

Loading, the text rules and reporting are engine-independent; only ``_gx`` imports
Great Expectations (lazily), so importing this package stays light.
"""

from __future__ import annotations

from . import (
    _association,  # noqa: F401  (registers expect_group_outcome_association_to_be_below)
    _conversations,  # noqa: F401  (registers the conversation rules)
)
from ._history import CheckHistoryEntry, check_history, record_check
from ._report import CheckReport, CheckResult, DatasetRef
from ._rules import RULES, register_rule
from ._run import check_dataset, run_checks
from ._schedule import (
    ScheduledJob,
    add_job,
    list_jobs,
    remove_job,
    run_job,
    run_scheduler,
)
from ._suite import (
    CleanStepSpec,
    ExpectationSpec,
    SuiteSpec,
    check_columns,
    find_suite,
    list_suites,
    load_suite,
)

__all__ = ["CheckHistoryEntry", "CheckReport", "CheckResult", "CleanStepSpec", "DatasetRef",
           "ExpectationSpec", "RULES", "ScheduledJob", "SuiteSpec", "add_job", "check_columns",
           "check_dataset", "check_history", "find_suite", "list_jobs", "list_suites",
           "load_suite", "record_check", "register_rule", "remove_job", "run_checks",
           "run_job", "run_scheduler"]

from ._views import (  # noqa: E402 - what front ends show of check runs
    clean_step_rows,
    dataset_family,
    example_rows,
    headline,
    rule_label,
    trend,
    trend_rows,
)

__all__ += ["clean_step_rows", "dataset_family", "example_rows", "headline", "rule_label",
            "trend", "trend_rows"]
