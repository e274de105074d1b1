"""Cleaning: declared steps that turn a dataset version into a NEW version (lineage kept).

One entry point, :func:`clean_dataset`, with the engine as a parameter: the pandas steps
live in :mod:`._steps`, their Spark counterparts in :mod:`._spark`.
"""

from __future__ import annotations

from ._counterfactual import (
    CounterfactualSummary,
    Swap,
    SwapResult,
    counterfactual_frame,
    swap_text,
)
from ._run import clean_dataset
from ._spark import SPARK_STEPS, pandas_only_steps
from ._steps import (
    STEPS,
    CleanReport,
    CleanStepReport,
    ColumnsArgs,
    CounterfactualArgs,
    DuplicatesArgs,
    LengthArgs,
    NearDuplicatesArgs,
    NormalizeArgs,
    PiiArgs,
    StepArgs,
    ToMessagesArgs,
    UnexpectedArgs,
    clean_frame,
    validate_steps,
)

__all__ = [
    "CounterfactualSummary", "STEPS", "Swap", "SwapResult", "clean_dataset", "counterfactual_frame",
    "swap_text", "clean_frame", "CleanReport", "CleanStepReport", "ColumnsArgs", "CounterfactualArgs", "ToMessagesArgs",
    "DuplicatesArgs", "LengthArgs", "NearDuplicatesArgs", "NormalizeArgs",
    "pandas_only_steps", "PiiArgs", "SPARK_STEPS", "StepArgs", "UnexpectedArgs",
    "validate_steps",
]

from ._names import clean_name  # noqa: E402

__all__ += ["clean_name"]
