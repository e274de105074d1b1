"""Bias-probe statistics: our vectorised sign-flip test against scipy's permutation_test,
and a whole probe report's statistics against one scipy test."""

from __future__ import annotations

import numpy as np
from run import Row, time_call


def sign_flip_vs_scipy():
    import scipy.stats

    from workbench.probes._stats import sign_flip_test

    d = np.random.default_rng(0).normal(0.3, 1, 30)
    ours = time_call(lambda: sign_flip_test(d, n_permutations=50000))
    ref = time_call(lambda: scipy.stats.permutation_test(
        (d, np.zeros_like(d)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", vectorized=True, n_resamples=50000, random_state=0))
    return [Row("probes: sign-flip test (30 ctx)", "workbench sign_flip_test",
                "scipy permutation_test (paired)", ours, ref, "50000 flips each, median of 5")]


def report_stats_vs_scipy():
    import scipy.stats

    from workbench.probes import compare_groups

    rng = np.random.default_rng(1)
    groups = [f"g{i}" for i in range(6)]
    n_ctx, phrases = 30, 3
    g = [x for _ in range(n_ctx) for x in groups for _ in range(phrases)]
    c = [k for k in range(n_ctx) for _ in groups for _ in range(phrases)]
    s = rng.normal(0, 1, len(g))
    ours = time_call(lambda: compare_groups(g, c, s), repeat=3)
    d = rng.normal(0, 1, n_ctx)
    ref = time_call(lambda: scipy.stats.permutation_test(
        (d, np.zeros_like(d)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", vectorized=True, n_resamples=5000, random_state=0))
    return [Row("probes: full report stats", "compare_groups, 6 groups x 30 ctx (15 pairs)",
                "one scipy paired permutation_test", ours, ref,
                "group CIs, 15 tests, CIs, Holm")]


ROWS = [sign_flip_vs_scipy, report_stats_vs_scipy]
