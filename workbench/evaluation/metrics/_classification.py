"""Classification metrics through scikit-learn: accuracy, macro-F1, the confusion matrix.

The reported values come from ``sklearn.metrics``. Bootstrap intervals need macro-F1 on
each of >= 1000 resamples, and one ``f1_score`` call costs milliseconds (its input checks),
so :func:`macro_f1_resampled` computes the same definition from per-class counts for all
resamples at once; the tests pin it to ``f1_score`` on resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelCodes:
    """True and predicted labels as integer codes into ``labels`` (sorted label names)."""

    labels: tuple[str, ...]
    true: np.ndarray
    pred: np.ndarray

    @classmethod
    def from_labels(cls, true: Sequence[str], pred: Sequence[str]) -> LabelCodes:
        """Codes for two label sequences.

        >>> c = LabelCodes.from_labels(["a", "b", "b"], ["a", "a", "c"])
        >>> c.labels, c.true.tolist(), c.pred.tolist()
        (('a', 'b', 'c'), [0, 1, 1], [0, 0, 2])
        """
        labels = tuple(sorted({str(x) for x in true} | {str(x) for x in pred}))
        index = {name: i for i, name in enumerate(labels)}
        return cls(labels, np.array([index[str(x)] for x in true], dtype=np.int64),
                   np.array([index[str(x)] for x in pred], dtype=np.int64))

    def subset(self, idx: np.ndarray) -> LabelCodes:
        return LabelCodes(self.labels, self.true[idx], self.pred[idx])


def macro_f1(codes: LabelCodes) -> float:
    """Macro-averaged F1 over the labels present in the references or the predictions
    (``sklearn.metrics.f1_score(average="macro")``)."""
    from sklearn.metrics import f1_score

    if not len(codes.true):
        return float("nan")
    return float(f1_score(codes.true, codes.pred, average="macro", zero_division=0))


def accuracy(codes: LabelCodes) -> float:
    """Share of exact label matches (``sklearn.metrics.accuracy_score``)."""
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(codes.true, codes.pred)) if len(codes.true) else float("nan")


def confusion(codes: LabelCodes) -> dict:
    """``{"labels": [...], "matrix": rows = true label, columns = predicted label}``
    (``sklearn.metrics.confusion_matrix``).

    >>> confusion(LabelCodes.from_labels(["a", "b", "b"], ["a", "a", "b"]))
    {'labels': ['a', 'b'], 'matrix': [[1, 0], [1, 1]]}
    """
    from sklearn.metrics import confusion_matrix

    k = len(codes.labels)
    m = confusion_matrix(codes.true, codes.pred, labels=list(range(k))) if len(codes.true) \
        else np.zeros((k, k), dtype=int)
    return {"labels": list(codes.labels), "matrix": m.astype(int).tolist()}


def macro_f1_resampled(codes: LabelCodes, index: np.ndarray) -> np.ndarray:
    """Macro-F1 of each row of ``index`` (positions, shape ``(B, m)``), as ``f1_score``
    computes it on that resample: F1 = 2TP / (2TP + FP + FN) per label present in the
    resample's references or predictions, averaged over those labels."""
    b, m = index.shape
    k = len(codes.labels)
    if m == 0:
        return np.full(b, np.nan)
    t, p = codes.true[index], codes.pred[index]
    rows = np.repeat(np.arange(b), m)
    true_n, pred_n = (np.bincount(rows * k + x.ravel(), minlength=b * k).reshape(b, k)
                      for x in (t, p))
    hit = np.where(t == p, t, k)  # k: a miss, counted in a spare column and dropped
    tp = np.bincount(rows * (k + 1) + hit.ravel(), minlength=b * (k + 1)).reshape(b, k + 1)[:, :k]
    denom = true_n + pred_n  # = 2TP + FP + FN
    present = denom > 0
    f1 = np.where(present, 2 * tp / np.where(present, denom, 1), 0.0)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
