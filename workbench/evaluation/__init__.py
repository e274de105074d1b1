"""Evaluation: accuracy, BLEU and ROUGE through ``evaluate`` with bootstrap intervals and
slices, bring-your-own predictions, and paired comparisons of two evaluations.
"""

from __future__ import annotations

from ._evaluate import (
    MIN_SLICE,
    MISSING,
    PREDICTION_COLUMNS,
    WORST,
    CompareReport,
    EvalReport,
    build_prompts,
    compare,
    evaluate_model,
    evaluate_predictions,
    list_evaluations,
    load_eval_data,
    primary_metric,
    read_predictions,
    read_records,
    report_from_run,
    score_examples,
)

__all__ = [
    "build_prompts", "compare", "CompareReport", "EvalReport", "evaluate_model",
    "evaluate_predictions", "list_evaluations", "load_eval_data", "MIN_SLICE",
    "MISSING", "PREDICTION_COLUMNS", "primary_metric", "read_predictions",
    "read_records", "report_from_run", "score_examples", "WORST",
]

from ._views import (  # noqa: E402 - what front ends show of evaluations
    METRIC_CHOICES,
    change_word,
    check_two_runs,
    default_slices,
    difference_groups,
    difference_rows,
    eval_data_choices,
    eval_run_label,
    generation_text,
    headline_metric,
    metric_rows,
    report_warnings,
    review_text,
    slice_rows,
)

__all__ += ["METRIC_CHOICES", "change_word", "check_two_runs", "default_slices",
            "difference_groups", "difference_rows", "eval_data_choices", "eval_run_label",
            "generation_text", "headline_metric", "metric_rows", "report_warnings",
            "review_text", "slice_rows"]
