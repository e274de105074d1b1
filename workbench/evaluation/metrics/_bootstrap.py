"""Seeded bootstrap intervals and the paired bootstrap test of evaluation metrics.

Every metric is recomputed on the same resamples of examples: means for per-example
metrics, summed sacrebleu statistics for BLEU (so a resample's BLEU is the corpus BLEU
of that resample). The draws and intervals come from the project's one bootstrap helper,
:mod:`workbench.core.stats` (options ``n_resamples`` and ``confidence_level``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import DataError
from ...core.stats import check_bootstrap, percentile_interval, resample_indices
from ._scores import Scores

MIN_RESAMPLES = 1000


def _check(n_resamples: int, confidence_level: float = 0.95) -> None:
    check_bootstrap(n_resamples, confidence_level, min_resamples=MIN_RESAMPLES)


def _resample_values(scores_list: list[Scores], *, n_resamples: int, seed: int,
                     ) -> list[dict[str, np.ndarray]]:
    """Each Scores' metric values on the same ``n_resamples`` index draws."""
    n = scores_list[0].n
    width = 1 + (scores_list[0].bleu_stats.shape[1] if scores_list[0].bleu_stats is not None
                 else 0)
    parts: list[dict[str, list[np.ndarray]]] = [{} for _ in scores_list]
    for idx in resample_indices(n, n_resamples=n_resamples, rng=np.random.default_rng(seed),
                                max_cells=4_000_000 // width):
        for store, sc in zip(parts, scores_list):
            for k, v in sc.resampled(idx).items():
                store.setdefault(k, []).append(v)
    return [{k: np.concatenate(v) for k, v in p.items()} for p in parts]


def bootstrap_ci(scores: Scores, *, n_resamples: int = MIN_RESAMPLES, seed: int = 0,
                 confidence_level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval for every metric in ``scores``.

    >>> import numpy as np
    >>> s = Scores(4, {"accuracy": np.array([1.0, 0.0, 1.0, 1.0])})
    >>> bootstrap_ci(s, seed=0)["accuracy"]
    (0.25, 1.0)
    """
    _check(n_resamples, confidence_level)
    if scores.n == 0:
        return {}
    [vals] = _resample_values([scores], n_resamples=n_resamples, seed=seed)
    return {k: percentile_interval(v, confidence_level=confidence_level)
            for k, v in vals.items()}


@dataclass(frozen=True)
class Difference:
    """``b - a`` for one metric, with its paired bootstrap interval and p-value."""

    a: float
    b: float
    diff: float
    ci: tuple[float, float]
    p_value: float

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "diff": self.diff, "ci": list(self.ci),
                "p_value": self.p_value}


def paired_bootstrap(a: Scores, b: Scores, *, n_resamples: int = MIN_RESAMPLES, seed: int = 0,
                     confidence_level: float = 0.95) -> dict[str, Difference]:
    """Paired bootstrap of ``b - a`` over the same examples (same order in both).

    The p-value is two-sided, for "no difference", and is the interval's own: twice the
    smaller share of resampled differences on either side of zero (+1 smoothing), the
    smallest 1 - confidence level whose percentile interval leaves zero out. So p < 0.05
    exactly when the 95% interval printed beside it excludes zero, however skewed the
    spread (corpus BLEU's is); a re-centred test could disagree with its own interval.
    With ``n_resamples`` draws the smallest p is 2 / (n_resamples + 1).
    """
    _check(n_resamples, confidence_level)
    if a.n != b.n:
        raise DataError(f"paired bootstrap: a has {a.n} examples, b has {b.n}; "
                        "compare runs over the same examples")
    names = [m for m in a.names if m in b.names]
    if a.n == 0 or not names:
        return {}
    va, vb = a.values(), b.values()
    ra, rb = _resample_values([a, b], n_resamples=n_resamples, seed=seed)
    out = {}
    for m in names:
        d = rb[m] - ra[m]
        obs = vb[m] - va[m]
        ok = d[~np.isnan(d)]
        side = min(np.sum(ok <= 0), np.sum(ok >= 0))
        p = 2 * (1 + side) / (len(ok) + 1)
        out[m] = Difference(va[m], vb[m], float(obs),
                            percentile_interval(d, confidence_level=confidence_level),
                            float(min(1.0, p)))
    return out
