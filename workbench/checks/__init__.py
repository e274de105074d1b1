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
from ._alerts import AlertDelivery, NotifySpec, deliver
from ._counts import CheckCounts, check_counts
from ._history import CheckHistoryEntry, check_history, record_check
from ._report import CheckReport, CheckResult, DatasetRef
from ._rules import RULES, register_rule
from ._run import check_dataset, run_checks
from ._schedule import (
    ScheduledJob,
    add_job,
    describe_alert,
    describe_outcome,
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

__all__ = ["add_job", "AlertDelivery", "check_columns", "check_counts", "check_dataset",
           "check_history", "CheckCounts", "CheckHistoryEntry", "CheckReport", "CheckResult",
           "CleanStepSpec", "DatasetRef", "deliver", "describe_alert", "describe_outcome",
           "ExpectationSpec", "find_suite", "list_jobs", "list_suites", "load_suite",
           "NotifySpec", "record_check", "register_rule", "remove_job", "RULES", "run_checks",
           "run_job", "run_scheduler", "ScheduledJob", "SuiteSpec"]

from ._views import (  # noqa: E402 - what front ends show of check runs
    clean_step_rows,
    data_docs_of,
    dataset_family,
    example_rows,
    failing_rows,
    headline,
    rule_label,
    trend,
    trend_rows,
)

__all__ += ["clean_step_rows", "data_docs_of", "dataset_family", "example_rows", "failing_rows", "headline",
            "rule_label",
            "trend", "trend_rows"]

from ._association import OUTCOME_SCORES  # noqa: E402 - scores of a text alone (sentiment)

__all__ += ["OUTCOME_SCORES"]
