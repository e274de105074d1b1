"""Metrics through ``evaluate`` (local modules), bootstrap intervals, paired comparison.

``accuracy`` (exact match after normalisation), ``bleu`` (sacrebleu corpus BLEU, 0-100)
and ``rouge`` (rouge1/2/L/Lsum, mean per-example F-measure from rouge-score); for
classifications, accuracy, macro-F1 and the confusion matrix through scikit-learn.
"""

from __future__ import annotations

from ._adjust import CORRECTIONS, adjust_pvalues
from ._bootstrap import Difference, bootstrap_ci, paired_bootstrap
from ._classification import (
    LabelCodes,
    accuracy,
    confusion,
    macro_f1,
    macro_f1_resampled,
)
from ._scores import DEFAULT_METRICS, METRICS, Scores, parse_metrics
from ._text import ROUGE_TYPES, normalize_answer


def compute_scores(*args, **kwargs) -> Scores:
    """See :func:`workbench.evaluation.metrics._evaluate.compute_scores` (imports ``evaluate``)."""
    from ._evaluate import compute_scores as _compute

    return _compute(*args, **kwargs)


__all__ = ["CORRECTIONS", "adjust_pvalues", "compute_scores", "bootstrap_ci", "paired_bootstrap", "Difference", "Scores",
           "METRICS", "DEFAULT_METRICS", "ROUGE_TYPES", "parse_metrics", "normalize_answer",
           "LabelCodes", "accuracy", "confusion", "macro_f1", "macro_f1_resampled"]
