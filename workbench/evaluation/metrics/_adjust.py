"""Multiple-comparison adjustment of p-values (Holm, Benjamini-Hochberg)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from ...core.errors import ConfigError

Correction = Literal["holm", "bh"]
CORRECTIONS = ("holm", "bh")


def adjust_pvalues(pvalues: Sequence[float], *, method: Correction = "holm") -> list[float]:
    """Holm or Benjamini-Hochberg adjusted p-values, in input order.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm")
    [0.03, 0.06, 0.06]
    >>> [round(p, 3) for p in adjust_pvalues([0.01, 0.04, 0.03], method="bh")]
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ConfigError(f"correction: unknown method '{method}'; allowed: holm, bh",
                          param="correction")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return [round(float(v), 12) for v in out]
