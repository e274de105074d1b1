"""Evaluation: accuracy, BLEU and ROUGE through ``evaluate`` with bootstrap intervals and
slices, bring-your-own predictions, paired comparisons of two evaluations, and the last
assistant turn of conversations (``evaluate_conversations``).
"""

from __future__ import annotations

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
)

__all__ = [
    "build_prompts", "compare", "conversation_cases", "evaluate_conversations",
    "render_prompts", "CompareReport", "EvalReport", "evaluate_model",
    "evaluate_predictions", "list_evaluations", "load_eval_data", "MIN_SLICE",
    "MISSING", "PREDICTION_COLUMNS", "primary_metric", "read_predictions",
    "read_records", "report_from_run", "score_examples", "WORST",
]
