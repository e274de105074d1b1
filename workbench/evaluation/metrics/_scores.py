"""Per-example scores, and metric values of any subset of them (slices, resamples)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ...core.errors import ConfigError, unknown_name
from ._classification import LabelCodes
from ._text import ROUGE_TYPES

#: metric name (as in ``--metrics``) -> the numbers it reports
METRICS: dict[str, tuple[str, ...]] = {
    "accuracy": ("accuracy",),
    "bleu": ("bleu",),
    "rouge": ROUGE_TYPES,
    # the prediction's own VADER sentiment in [-1, 1] (no reference needed): with a slice
    # by group it shows whether a model answers one group's questions less warmly
    "sentiment": ("sentiment",),
}
#: exact-match accuracy of free text is reported only when asked for: one changed word makes
#: a right answer "wrong", so by default free text is scored by BLEU and ROUGE
DEFAULT_METRICS = ("bleu", "rouge")


def parse_metrics(metrics: str | Sequence[str] | None) -> list[str]:
    """``"accuracy,bleu"`` or a list -> checked metric names, in registry order."""
    if metrics is None:
        return list(DEFAULT_METRICS)
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [n.strip().lower() for n in names if n and n.strip()]
    if not names:
        raise ConfigError(f"metrics: no metric named; choose from {', '.join(METRICS)}",
                          param="metrics")
    for n in names:
        if n not in METRICS:
            raise ConfigError(f"metrics: {unknown_name('metric', n, METRICS)}", param="metrics")
    return [m for m in METRICS if m in names]


@dataclass
class Scores:
    """What each example contributes to each metric.

    ``per_example`` holds the mean-type metrics (accuracy 0/1, rouge F-measures);
    ``bleu_stats`` sacrebleu's per-segment statistics (rows of ints), whose column sums
    give corpus BLEU; ``labels`` the true and predicted labels of a classification, for
    macro-F1 (``macro_f1``).
    """

    n: int
    per_example: dict[str, np.ndarray] = field(default_factory=dict)
    bleu_stats: np.ndarray | None = None
    bleu_signature: str | None = None
    labels: LabelCodes | None = None

    @property
    def names(self) -> list[str]:
        names = list(self.per_example)
        if self.labels is not None:
            names.insert(1 if "accuracy" in names else 0, "macro_f1")
        if self.bleu_stats is not None:
            names.insert(1 if "accuracy" in names else 0, "bleu")
        return names

    def values(self, index: np.ndarray | None = None) -> dict[str, float]:
        """Metric values over all examples, or over ``index`` (positions, repeats allowed)."""
        return {k: float(v[0]) for k, v in self.resampled(
            None if index is None else np.asarray(index)[None, :]).items()}

    def resampled(self, index: np.ndarray | None) -> dict[str, np.ndarray]:
        """Metric values for each row of ``index`` (shape ``(B, m)``); ``None`` = all once."""
        from ._text import bleu_scores_from_stats

        out: dict[str, np.ndarray] = {}
        for name in self.names:
            if name == "macro_f1":
                from ._classification import macro_f1, macro_f1_resampled

                out[name] = np.array([macro_f1(self.labels)]) if index is None else \
                    macro_f1_resampled(self.labels, index)
            elif name == "bleu":
                s = self.bleu_stats
                totals = s.sum(axis=0)[None, :] if index is None else s[index].sum(axis=1)
                out[name] = np.array(bleu_scores_from_stats(totals))
            else:
                v = self.per_example[name]
                if index is None:
                    out[name] = np.array([v.mean() if len(v) else np.nan])
                else:
                    out[name] = v[index].mean(axis=1) if index.shape[1] else \
                        np.full(index.shape[0], np.nan)
        return out

    def subset(self, mask: np.ndarray) -> Scores:
        """The scores of the examples where ``mask`` is true (or at integer positions)."""
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)
        return Scores(len(idx), {k: v[idx] for k, v in self.per_example.items()},
                      None if self.bleu_stats is None else self.bleu_stats[idx],
                      self.bleu_signature,
                      None if self.labels is None else self.labels.subset(idx))

    def record(self, i: int) -> dict:
        """Example ``i``'s scores for a per-example record (``_bleu_stats`` for re-use)."""
        rec = {k: float(v[i]) for k, v in self.per_example.items()}
        if self.bleu_stats is not None:
            rec["_bleu_stats"] = [int(x) for x in self.bleu_stats[i]]
        if self.labels is not None:  # macro-F1 is rebuilt from prediction and reference
            rec["_classification"] = True
        return rec

    @classmethod
    def from_records(cls, records: Sequence[dict], *, signature: str | None = None) -> Scores:
        """Rebuild from per-example records written by :meth:`record`."""
        per = {}
        first = records[0] if records else {}
        for name in ("accuracy", *ROUGE_TYPES, "sentiment"):
            if name in first:
                per[name] = np.array([float(r[name]) for r in records])
        stats = None
        if "_bleu_stats" in first:
            stats = np.array([r["_bleu_stats"] for r in records], dtype=np.int64)
        labels = None
        if first.get("_classification"):
            labels = LabelCodes.from_labels([r["reference"] for r in records],
                                            [r["prediction"] for r in records])
        return cls(len(records), per, stats, signature, labels)
