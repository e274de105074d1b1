"""Splits: stratified train/validation/test with exact allocation, leakage checks, manifests.
"""

from __future__ import annotations

from ._leakage import (
    Duplicates,
    ProbePrompts,
    find_duplicates,
    leakage_rows,
    pick_text_columns,
    probe_overlap,
)
from ._split import (
    DEFAULT_RATIOS,
    NULL,
    OTHER,
    STRATUM_SEP,
    SplitPlan,
    SplitReport,
    allocate,
    get_split_run,
    list_splits,
    load_split,
    make_split,
    parse_ratios,
    parse_split_ref,
    plan_split,
    split_frame,
    strata_table,
)

__all__ = [
    "allocate", "DEFAULT_RATIOS", "Duplicates", "find_duplicates", "get_split_run",
    "leakage_rows", "list_splits", "load_split", "make_split", "NULL", "OTHER",
    "parse_ratios", "parse_split_ref", "pick_text_columns", "plan_split",
    "probe_overlap", "ProbePrompts", "split_frame", "SplitPlan", "SplitReport",
    "strata_table", "STRATUM_SEP",
]

from ._views import distinct_counts, label_guess, split_rows  # noqa: E402 - for front ends

__all__ += ["distinct_counts", "label_guess", "split_rows"]
