"""Evaluation: accuracy, BLEU and ROUGE through ``evaluate`` with bootstrap intervals and
slices; classifiers scored with their head (accuracy, macro-F1, confusion matrix through
scikit-learn) and their fairness by group (fairlearn); bring-your-own predictions, paired
comparisons of two evaluations, and the last assistant turn of conversations
(``evaluate_conversations``).
"""

from __future__ import annotations

from ._classify import predict_labels
from ._conversations import conversation_cases, evaluate_conversations, render_prompts
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
    score_labels,
    split_leakage,
)
from ._fairness import FairnessReport, classification_fairness, fairness_change

__all__ = [
    "classification_fairness", "FairnessReport", "fairness_change", "predict_labels",
    "score_labels", "conversation_cases", "evaluate_conversations", "render_prompts",
    "build_prompts", "compare", "CompareReport", "EvalReport", "evaluate_model",
    "evaluate_predictions", "list_evaluations", "load_eval_data", "MIN_SLICE",
    "MISSING", "PREDICTION_COLUMNS", "primary_metric", "read_predictions",
    "read_records", "report_from_run", "score_examples", "split_leakage", "WORST",
]

from ._views import (  # noqa: E402 - what front ends show of evaluations
    METRIC_CHOICES,
    METRIC_DEFAULTS,
    change_word,
    check_two_runs,
    classifier_columns,
    confusion_rows,
    default_slices,
    eval_columns,
    fairness_difference_rows,
    fairness_group_rows,
    fairness_message,
    difference_groups,
    difference_rows,
    eval_data_choices,
    eval_run_label,
    generation_text,
    headline_metric,
    metric_rows,
    report_warnings,
    review_text,
    side_line,
    slice_rows,
)

__all__ += ["METRIC_CHOICES", "METRIC_DEFAULTS", "change_word", "check_two_runs", "classifier_columns",
            "confusion_rows", "default_slices", "eval_columns", "fairness_difference_rows",
            "fairness_group_rows", "fairness_message",
            "difference_groups", "difference_rows", "eval_data_choices", "eval_run_label",
            "generation_text", "headline_metric", "metric_rows", "report_warnings",
            "review_text", "side_line", "slice_rows"]
