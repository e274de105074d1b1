"""Seeded bootstrap intervals and the paired bootstrap test.

Every metric is recomputed on the same resamples of examples: means for per-example
metrics, summed sacrebleu statistics for BLEU (so a resample's BLEU is the corpus BLEU
of that resample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import ConfigError, WorkbenchError
from ._scores import Scores

MIN_RESAMPLES = 1000


def _check(resamples: int, level: float) -> None:
    if not isinstance(resamples, int) or resamples < MIN_RESAMPLES:
        raise ConfigError(f"resamples: must be an integer >= {MIN_RESAMPLES}; "
                          f"got {resamples!r}", param="resamples")
    if not 0 < level < 1:
        raise WorkbenchError(f"level: must be in (0, 1); got {level!r}")


def _resample_values(scores_list: list[Scores], *, resamples: int, seed: int,
                     ) -> list[dict[str, np.ndarray]]:
    """Each Scores' metric values on the same ``resamples`` index draws."""
    n = scores_list[0].n
    rng = np.random.default_rng(seed)
    width = 1 + (scores_list[0].bleu_stats.shape[1] if scores_list[0].bleu_stats is not None
                 else 0)
    chunk = max(1, min(resamples, 4_000_000 // max(1, n * width)))
    parts: list[dict[str, list[np.ndarray]]] = [{} for _ in scores_list]
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        idx = rng.integers(0, n, size=(b, n))
        for store, sc in zip(parts, scores_list):
            for k, v in sc.resampled(idx).items():
                store.setdefault(k, []).append(v)
        done += b
    return [{k: np.concatenate(v) for k, v in p.items()} for p in parts]


def bootstrap_ci(scores: Scores, *, resamples: int = MIN_RESAMPLES, seed: int = 0,
                 level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval for every metric in ``scores``.

    >>> import numpy as np
    >>> s = Scores(4, {"accuracy": np.array([1.0, 0.0, 1.0, 1.0])})
    >>> bootstrap_ci(s, seed=0)["accuracy"]
    (0.25, 1.0)
    """
    _check(resamples, level)
    if scores.n == 0:
        return {}
    [vals] = _resample_values([scores], resamples=resamples, seed=seed)
    a = (1 - level) / 2 * 100
    return {k: (float(np.nanpercentile(v, a)), float(np.nanpercentile(v, 100 - a)))
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


def paired_bootstrap(a: Scores, b: Scores, *, resamples: int = MIN_RESAMPLES, seed: int = 0,
                     level: float = 0.95) -> dict[str, Difference]:
    """Paired bootstrap of ``b - a`` over the same examples (same order in both).

    The p-value is two-sided, for "no difference": the share of resampled differences,
    re-centred on zero, at least as far from zero as the observed one (+1 smoothing).
    """
    _check(resamples, level)
    if a.n != b.n:
        raise WorkbenchError(f"paired bootstrap: a has {a.n} examples, b has {b.n}; "
                             "compare runs over the same examples")
    names = [m for m in a.names if m in b.names]
    if a.n == 0 or not names:
        return {}
    va, vb = a.values(), b.values()
    ra, rb = _resample_values([a, b], resamples=resamples, seed=seed)
    lo_q = (1 - level) / 2 * 100
    out = {}
    for m in names:
        d = rb[m] - ra[m]
        obs = vb[m] - va[m]
        centred = d - np.nanmean(d)
        p = (1 + np.sum(np.abs(centred) >= abs(obs) - 1e-12)) / (len(d) + 1)
        out[m] = Difference(va[m], vb[m], float(obs),
                            (float(np.nanpercentile(d, lo_q)),
                             float(np.nanpercentile(d, 100 - lo_q))), float(min(1.0, p)))
    return out
