"""The one bootstrap helper: seeded index draws and percentile intervals.

Every interval the workbench reports (evaluation metrics, classification fairness, bias
probes, the association check) is a percentile bootstrap over draws from
:func:`resample_indices`. The option names follow :func:`scipy.stats.bootstrap`:
``n_resamples`` and ``confidence_level``.

>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0, 4.0])
>>> means = np.concatenate([x[i].mean(axis=1) for i in resample_indices(
...     4, n_resamples=1000, rng=np.random.default_rng(0))])
>>> lo, hi = percentile_interval(means, confidence_level=0.95)
>>> 1.0 <= lo < 2.5 < hi <= 4.0
True
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .errors import ConfigError

#: Index cells per draw: 2e6 int64 is 16 MB, whatever the number of examples.
MAX_CELLS = 2_000_000


def check_bootstrap(n_resamples, confidence_level, *, min_resamples: int = 1) -> None:
    """Refuse a resample count below ``min_resamples`` or a level outside (0, 1).

    >>> check_bootstrap(50, 0.95, min_resamples=1000)
    Traceback (most recent call last):
    ...
    workbench.core.errors.ConfigError: n resamples: must be an integer >= 1000; got 50
    """
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < min_resamples:
        raise ConfigError(f"n resamples: must be an integer >= {min_resamples}; "
                          f"got {n_resamples!r}", param="n_resamples")
    if not 0 < confidence_level < 1:
        raise ConfigError(f"confidence level: must be in (0, 1); got {confidence_level!r}",
                          param="confidence_level")


def resample_indices(n: int, *, n_resamples: int, rng: np.random.Generator,
                     max_cells: int = MAX_CELLS) -> Iterator[np.ndarray]:
    """``n_resamples`` draws of ``n`` indices with replacement, as ``(k, n)`` chunks.

    The draws come ``k`` rows at a time with ``k * n <= max_cells`` (at least one row),
    so memory stays bounded for any ``n`` while the work is still vectorised. Chunked or
    not, the rows are the draws of one ``rng.integers(0, n, (n_resamples, n))`` call (numpy
    draws them in the same order), so ``max_cells`` changes memory use, never the numbers.

    >>> [c.shape for c in resample_indices(3, n_resamples=5, rng=np.random.default_rng(0),
    ...                                    max_cells=6)]
    [(2, 3), (2, 3), (1, 3)]
    """
    step = max(1, min(n_resamples, max_cells // max(1, n)))
    done = 0
    while done < n_resamples:
        k = min(step, n_resamples - done)
        yield rng.integers(0, n, size=(k, n))
        done += k


def percentile_interval(samples, *, confidence_level: float = 0.95,
                        ignore_nan: bool = True) -> tuple[float, float]:
    """The central ``confidence_level`` percentile interval of ``samples``.

    Resamples whose statistic is undefined (NaN) are left out, unless ``ignore_nan`` is
    false: then any NaN makes the interval NaN.

    >>> percentile_interval(np.arange(101.0), confidence_level=0.5)
    (25.0, 75.0)
    >>> percentile_interval([1.0, np.nan, 3.0]), percentile_interval([1.0, np.nan], ignore_nan=False)
    ((1.05, 2.95), (nan, nan))
    """
    a = (1 - confidence_level) / 2
    quantile = np.nanquantile if ignore_nan else np.quantile
    lo, hi = quantile(np.asarray(samples, dtype=float), [a, 1 - a])
    return float(lo), float(hi)


__all__ = ["MAX_CELLS", "check_bootstrap", "percentile_interval", "resample_indices"]
