"""workbench.probes._stats against scipy, and the calibration of the flagging rule."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.stats

from workbench.core.errors import RenamedKeyWarning, WorkbenchError
from workbench.probes import StatsConfig, adjust_pvalues, compare_groups, finalize
from workbench.probes._stats import (
    bootstrap_mean_ci,
    cluster_bootstrap_ci,
    paired_cohens_d,
    sign_flip_test,
)


def _paired_perm_scipy(d, n_resamples):
    res = scipy.stats.permutation_test(
        (d, np.zeros_like(d)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", vectorized=True, n_resamples=n_resamples,
        alternative="two-sided", random_state=0)
    return res.pvalue


@pytest.mark.parametrize("n", [2, 4, 9, 12])
def test_exact_sign_flip_matches_scipy(n):
    d = np.random.default_rng(n).normal(0.3, 1, n)
    p, exact = sign_flip_test(d)
    assert exact
    assert p == pytest.approx(_paired_perm_scipy(d, np.inf), abs=1e-12)


def test_monte_carlo_sign_flip_close_to_scipy_exact_and_t_test():
    d = np.random.default_rng(3).normal(0.4, 1, 14)
    p_mc, exact = sign_flip_test(d, exact_max=10, n_permutations=20000)
    assert not exact
    assert p_mc == pytest.approx(_paired_perm_scipy(d, np.inf), abs=0.01)
    big = np.random.default_rng(4).normal(0.3, 1, 60)
    p_big, _ = sign_flip_test(big, n_permutations=20000)
    assert p_big == pytest.approx(scipy.stats.ttest_1samp(big, 0).pvalue, abs=0.02)


def test_monte_carlo_p_is_never_zero():
    p, exact = sign_flip_test(np.full(40, 5.0), n_permutations=200)
    assert not exact and p == pytest.approx(1 / 201)


@pytest.mark.parametrize("method,scipy_method", [("bh", "bh")])
def test_bh_matches_scipy(method, scipy_method):
    p = np.random.default_rng(0).uniform(0, 0.2, 25)
    ours = adjust_pvalues(p, method=method)
    assert ours == pytest.approx(scipy.stats.false_discovery_control(p, method=scipy_method).tolist())


def test_holm_hand_check():
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01,0.03,0.04,0.5 times 4,3,2,1 = .04,.09,.08,.5 -> running max .04,.09,.09,.5
    assert adjust_pvalues(p, method="holm") == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert adjust_pvalues([0.9, 0.8]) == [1.0, 1.0]


def test_bootstrap_ci_close_to_scipy_percentile():
    x = np.random.default_rng(1).normal(2, 1, 40)
    lo, hi = bootstrap_mean_ci(x, n_resamples=5000, seed=0)
    ref = scipy.stats.bootstrap((x,), np.mean, method="percentile", n_resamples=5000,
                                random_state=0).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.05) and hi == pytest.approx(ref.high, abs=0.05)
    # seeded: the same interval every time
    assert bootstrap_mean_ci(x, seed=7) == bootstrap_mean_ci(x, seed=7)


def test_one_bootstrap_helper_with_scipys_option_names():
    """Evaluation metrics, fairness, probes and the association check all draw through
    workbench.core.stats; its chunks are one seeded stream, whatever their size."""
    import inspect

    from workbench.core.stats import percentile_interval, resample_indices
    from workbench.evaluation import classification_fairness
    from workbench.evaluation.metrics import Scores, bootstrap_ci, paired_bootstrap
    from workbench.probes._stats import bootstrap_diff_ci

    chunks = list(resample_indices(5, n_resamples=7, rng=np.random.default_rng(3), max_cells=10))
    assert [c.shape for c in chunks] == [(2, 5)] * 3 + [(1, 5)]
    assert (np.concatenate(chunks) == np.random.default_rng(3).integers(0, 5, (7, 5))).all()
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    means = np.concatenate([x[i].mean(axis=1) for i in resample_indices(
        5, n_resamples=1000, rng=np.random.default_rng(3))])
    want = percentile_interval(means, confidence_level=0.9)
    assert bootstrap_mean_ci(x, n_resamples=1000, confidence_level=0.9, seed=3) == want
    assert bootstrap_ci(Scores(5, {"accuracy": x}), n_resamples=1000, seed=3,
                        confidence_level=0.9)["accuracy"] == want
    # the numbers these gave before the helper was shared
    assert bootstrap_mean_ci(x, seed=0) == (1.8, 7.2)
    assert bootstrap_diff_ci([1.0, 2.0, 3.0], [0.0, 5.0], n_resamples=500, seed=1) == (
        -3.666666666666667, 2.6666666666666665)
    for fn in (bootstrap_ci, paired_bootstrap, bootstrap_mean_ci, bootstrap_diff_ci,
               cluster_bootstrap_ci, scipy.stats.bootstrap):
        assert {"n_resamples", "confidence_level"} <= set(inspect.signature(fn).parameters)
    assert "n_resamples" in inspect.signature(classification_fairness).parameters


def test_cluster_bootstrap_equals_plain_bootstrap_for_singletons():
    x = np.arange(10.0)
    assert cluster_bootstrap_ci(x, np.ones(10), seed=3) == pytest.approx(
        bootstrap_mean_ci(x, seed=3))


def test_cohens_dz():
    d = np.array([1.0, 2.0, 3.0, 4.0])
    assert paired_cohens_d(d) == pytest.approx(d.mean() / d.std(ddof=1))


def _frame(diffs, *, groups=("a", "b"), noise_seed=0):
    rng = np.random.default_rng(noise_seed)
    n = len(diffs)
    base = rng.normal(0, 1, n)
    g = [groups[0]] * n + [groups[1]] * n
    c = [f"c{i}" for i in range(n)] * 2
    s = np.concatenate([base + np.asarray(diffs), base])
    return g, c, s


def test_compare_groups_shape_and_values():
    g, c, s = _frame([0.5] * 20)
    rep = compare_groups(g, c, s)
    assert set(rep.by_group) == {"a", "b"}
    assert rep.by_group["a"].n == 20 and rep.by_group["a"].n_contexts == 20
    (cmp,) = rep.comparisons
    assert cmp.diff == pytest.approx(0.5) and cmp.ci[0] == pytest.approx(0.5)
    assert rep.gap == pytest.approx(0.5)
    assert cmp.p_value < 0.001 and rep.flagged
    d = rep.to_dict()
    assert set(d) >= {"groups", "gap", "comparisons", "flagged"}
    assert set(d["comparisons"][0]) >= {"a", "b", "diff", "ci", "p_value", "p_adjusted",
                                        "effect_size"}


def test_small_effect_is_not_flagged_even_when_significant():
    g, c, s = _frame([0.05] * 30)
    rep = compare_groups(g, c, s, config=StatsConfig(min_effect=0.1))
    assert rep.comparisons[0].significant and not rep.flagged


def test_power_warnings():
    g, c, s = _frame([0.3, -0.2, 0.1, 0.4])
    rep = compare_groups(g, c, s)
    assert rep.warnings == ["'a' vs 'b': only 4 shared contexts; the smallest possible p-value "
                            "(0.125) is not below alpha=0.05, so neither a difference nor "
                            "equivalence can be shown"]
    g, c, s = _frame([0.3, -0.2, 0.1, 0.4, 0.2])  # 2**-5 < 0.05: equivalence is possible
    assert compare_groups(g, c, s).warnings[0].endswith("so no difference can be shown")
    g, c, s = _frame(np.random.default_rng(0).normal(0, 1, 12).tolist())
    rep = compare_groups(g, c, s)
    (cmp,) = rep.comparisons
    assert cmp.verdict == "inconclusive"
    assert rep.warnings[0].startswith(
        f"'a' vs 'b': inconclusive with 12 contexts (sd of per-context differences "
        f"{cmp.sd:.3g}): they give about {cmp.power:.0%} power to detect a true gap of 0.1. "
        f"At that spread about {cmp.needed['different']['contexts']} contexts would give 80%, "
        f"and about {cmp.needed['equivalent']['contexts']} would show equivalence within "
        "±0.1 80% of the time if the true gap is 0 (normal approximation, alpha 0.05).")


def test_more_than_1023_contexts_do_not_overflow():
    """2.0 / 2 ** n raised OverflowError beyond 1023 contexts; the warning now uses ldexp."""
    g, c, s = _frame(np.random.default_rng(2).normal(0, 0.3, 1100).tolist())
    rep = compare_groups(g, c, s, config=StatsConfig(n_resamples=200, n_permutations=500))
    (cmp,) = rep.comparisons
    assert cmp.n_contexts == 1100 and not cmp.exact and 0 < cmp.p_value <= 1


def test_finalize_adjusts_across_reports():
    r1 = compare_groups(*_frame([0.5] * 20), adjust=False)
    r2 = compare_groups(*_frame(np.random.default_rng(1).normal(0, 1, 20).tolist()),
                        adjust=False)
    f1, f2 = finalize([r1, r2])
    ps = [r1.comparisons[0].p_value, r2.comparisons[0].p_value]
    assert [f1.comparisons[0].p_adjusted, f2.comparisons[0].p_adjusted] == adjust_pvalues(ps)


def test_stats_config_from_project(project):
    cfg_path = project.config_path
    cfg_path.write_text(cfg_path.read_text() + "probes:\n  alpha: 0.01\n  correction: bh\n")
    cfg = StatsConfig.from_project(project, min_effect=0.2)
    assert (cfg.alpha, cfg.correction, cfg.min_effect) == (0.01, "bh", 0.2)
    cfg_path.write_text(cfg_path.read_text() + "  alpah: 0.1\n")
    with pytest.raises(WorkbenchError, match=r"workbench.yaml: probes.alpah \(line \d+\): unknown key"):
        StatsConfig.from_project(project)


def _pinned(cfg):
    g, c, s = _frame(np.random.default_rng(5).normal(0.2, 1, 12).tolist())
    rep = compare_groups(g, c, s, config=cfg)
    return [rep.by_group["a"].ci, rep.by_group["b"].ci, rep.comparisons[0].ci]


def test_renamed_keys_n_resamples_and_confidence_level(project):
    """scipy's names; the old ones still work with one warning each, numbers unchanged."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RenamedKeyWarning)  # today's names never warn
        new = StatsConfig(n_resamples=300, confidence_level=0.9, seed=7, n_permutations=200)
    with pytest.warns(RenamedKeyWarning) as seen:
        old = StatsConfig(n_bootstrap=300, confidence=0.9, seed=7, n_permutations=200)
    assert old == new and [str(w.message) for w in seen] == [
        "n_bootstrap: renamed to 'n_resamples'; the old name still works for now",
        "confidence: renamed to 'confidence_level'; the old name still works for now"]
    # seed 7 pinned before the rename: the same intervals under either name
    want = [(-0.23266098870564633, 0.48348129543622625),
            (-0.32581316434039176, 0.3851337508698077),
            (-0.3090234086987175, 0.5177242426363554)]
    assert _pinned(new) == _pinned(old) == [pytest.approx(w, abs=1e-12) for w in want]
    assert new.model_dump()["n_resamples"] == 300 and "n_bootstrap" not in new.model_dump()

    base = project.config_path.read_text()
    project.config_path.write_text(base + "probes:\n  n_bootstrap: 300\n  confidence: 0.9\n")
    line = base.count("\n") + 2
    with pytest.warns(RenamedKeyWarning) as seen:
        cfg = StatsConfig.from_project(project)
    assert (cfg.n_resamples, cfg.confidence_level) == (300, 0.9)
    assert str(seen[0].message) == (f"{project.config_path}: probes.n_bootstrap (line {line}): "
                                    "renamed to 'n_resamples'; the old name still works for now")
    assert f"probes.confidence (line {line + 1}): renamed to 'confidence_level'" in str(
        seen[1].message)


TOO_FEW = "probes.n_resamples (line {line}): must be greater than or equal to 100; got 50"


@pytest.mark.parametrize("setting,message", [
    ("n_bootstrap: 50", TOO_FEW),
    ("n_resamples: 50", TOO_FEW),
    ("confidence: 1.5", "probes.confidence_level (line {line}): must be less than 1; got 1.5"),
    ("n_bootstrap: 500\n  n_resamples: 500",
     ("probes.n_bootstrap (line {line}): give 'n_resamples' or its old name 'n_bootstrap', "
      "not both")),
])
def test_bad_bootstrap_setting_names_the_new_key_and_its_line(project, setting, message):
    import warnings

    base = project.config_path.read_text()
    project.config_path.write_text(base + f"probes:\n  {setting}\n")
    want = f"{project.config_path}: " + message.format(line=base.count("\n") + 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenamedKeyWarning)
        with pytest.raises(WorkbenchError) as err:
            StatsConfig.from_project(project)
    assert str(err.value) == want


def _flag_rate(mean_diff, sims=400, n_ctx=30):
    rng = np.random.default_rng(0)
    cfg = StatsConfig(n_resamples=200, n_permutations=1000)
    flagged = 0
    for k in range(sims):
        base = rng.normal(0, 1, n_ctx)
        diffs = rng.normal(mean_diff, 1, n_ctx)
        g = ["a"] * n_ctx + ["b"] * n_ctx
        c = list(range(n_ctx)) * 2
        s = np.concatenate([base + diffs, base])
        flagged += compare_groups(g, c, s, config=cfg.model_copy(update={"seed": k})).flagged
    return flagged / sims


@pytest.mark.slow
def test_calibration_null_and_planted_effect():
    """400 seeded null simulations flag <= 7%; a planted N(0.6, 1) effect flags >= 80%.

    (Over 4000 null simulations the sign-flip test's rate of p < 0.05 measured 4.75%.)
    """
    t0 = time.perf_counter()
    null = _flag_rate(0.0)
    planted = _flag_rate(0.6)
    assert null <= 0.07, null
    assert planted >= 0.80, planted
    assert time.perf_counter() - t0 < 30  # vectorised: about 5 s on 2 cores


def test_unpaired_permutation_and_bootstrap_close_to_scipy():
    from workbench.probes._stats import bootstrap_diff_ci, two_sample_permutation_test

    rng = np.random.default_rng(5)
    x, y = rng.normal(0.3, 1, 25), rng.normal(0, 1, 35)
    ref = scipy.stats.permutation_test((x, y), lambda a, b, axis: a.mean(axis) - b.mean(axis),
                                       vectorized=True, n_resamples=20000, random_state=0)
    assert two_sample_permutation_test(x, y, n_permutations=20000) == pytest.approx(
        ref.pvalue, abs=0.015)
    lo, hi = bootstrap_diff_ci(x, y, n_resamples=4000)
    assert lo < x.mean() - y.mean() < hi
    g = ["a"] * 25 + ["b"] * 35
    c = [f"p{i}" for i in range(60)]  # no shared contexts: BOLD-style
    rep = compare_groups(g, c, np.concatenate([x, y]), paired=False)
    assert rep.comparisons[0].diff == pytest.approx(x.mean() - y.mean())
    assert rep.comparisons[0].p_value == pytest.approx(ref.pvalue, abs=0.03)


def test_min_effect_per_scorer():
    cfg = StatsConfig(min_effect=0.2, min_effects={"length": 3.0})
    assert cfg.for_scorer("length").min_effect == 3.0
    assert cfg.for_scorer("sentiment").min_effect == 0.2
    assert StatsConfig().for_scorer("refusal").min_effect == 0.05
