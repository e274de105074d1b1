"""Three-way verdicts: TOST against scipy, the rules, the data a decision needs, and the
calibration the issue asks for, shown by seeded simulations through compare_groups/finalize.

Spreads are the demo's: VADER compound scores give per-context differences with an sd of
about 0.2-0.4; the margin and min_effect are the defaults (0.1).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.stats
from pydantic import ValidationError

from workbench.core.errors import WorkbenchError
from workbench.probes import StatsConfig, adjust_pvalues, compare_groups, finalize
from workbench.probes._stats import (
    equivalence_contexts_needed,
    report_verdict,
    tost_paired,
    tost_unpaired,
)

# Verdicts use neither bootstrap interval; 1000 flips resolve p to 0.001, enough for alpha
# 0.05 over 6 comparisons (Holm's smallest reachable adjusted p is 6/1001).
SIM = StatsConfig(n_resamples=100, n_permutations=1000)


# ------------------------------------------------------------------- TOST
@pytest.mark.parametrize("n", [5, 9, 12])
def test_one_sided_tests_equal_scipy_exact_on_shifted_differences(n):
    d = np.random.default_rng(n).normal(0.02, 0.1, n)
    m = 0.1
    r = tost_paired(d, margin=m)
    assert r.exact

    def exact(x, alternative):
        return scipy.stats.permutation_test(
            (x, np.zeros_like(x)), lambda a, b, axis: np.mean(a - b, axis=axis),
            permutation_type="samples", vectorized=True, n_resamples=np.inf,
            alternative=alternative).pvalue

    assert r.p_upper == pytest.approx(exact(d - m, "less"), abs=1e-12)
    assert r.p_lower == pytest.approx(exact(d + m, "greater"), abs=1e-12)
    assert r.tost_p == max(r.p_lower, r.p_upper)


def test_random_flips_and_unpaired_permutations_close_to_scipy():
    d = np.random.default_rng(1).normal(0.03, 0.2, 14)
    exact = tost_paired(d, margin=0.1)
    mc = tost_paired(d, margin=0.1, exact_max=0, n_permutations=20000)
    assert exact.exact and not mc.exact
    assert mc.p_upper == pytest.approx(exact.p_upper, abs=0.01)
    assert mc.p_lower == pytest.approx(exact.p_lower, abs=0.01)
    rng = np.random.default_rng(2)
    x, y = rng.normal(0.05, 0.3, 40), rng.normal(0, 0.3, 50)
    r = tost_unpaired(x, y, margin=0.15, n_permutations=20000)
    ref = scipy.stats.permutation_test(
        (x - 0.15, y), lambda a, b, axis: a.mean(axis) - b.mean(axis), vectorized=True,
        n_resamples=20000, alternative="less", random_state=0).pvalue
    assert r.p_upper == pytest.approx(ref, abs=0.015)


def test_tost_verdict_is_exactly_the_interval_inside_the_margin():
    rng = np.random.default_rng(3)
    seen = set()
    for k in range(150):
        n = int(rng.integers(4, 50))
        d = rng.normal(rng.uniform(-0.12, 0.12), rng.uniform(0.05, 0.4), n)
        r = tost_paired(d, margin=0.1, n_permutations=300, exact_max=10, seed=k)
        u = tost_unpaired(d, rng.normal(0, 0.2, n + 5), margin=0.15, n_permutations=300,
                          seed=k)
        for t in (r, u):
            assert (t.tost_p < 0.05) == t.equivalent
            assert t.interval[0] <= t.estimate <= t.interval[1]
            seen.add(t.equivalent)
    assert seen == {True, False}  # both outcomes were exercised


def test_tost_interval_close_to_the_t_interval():
    d = np.random.default_rng(4).normal(0.03, 0.3, 200)
    r = tost_paired(d, margin=0.1)
    half = scipy.stats.t.ppf(0.95, 199) * d.std(ddof=1) / math.sqrt(200)
    assert r.interval == pytest.approx((d.mean() - half, d.mean() + half), abs=0.002)


# ------------------------------------------------------------------- rules
def _paired(diffs, *, base_sd=0.3, seed=0, groups=("a", "b")):
    rng = np.random.default_rng(seed)
    diffs = np.asarray(diffs, dtype=float)
    n = diffs.size
    base = rng.normal(0, base_sd, n)
    return ([groups[0]] * n + [groups[1]] * n, [f"c{i}" for i in range(n)] * 2,
            np.concatenate([base + diffs, base]))


def test_three_verdicts_and_report_verdicts():
    rng = np.random.default_rng(5)
    different = compare_groups(*_paired(rng.normal(0.3, 0.2, 60)))
    equivalent = compare_groups(*_paired(rng.normal(0.0, 0.2, 200)))
    inconclusive = compare_groups(*_paired(rng.normal(0.0, 0.3, 15)))
    assert [r.comparisons[0].verdict for r in (different, equivalent, inconclusive)] == [
        "different", "equivalent", "inconclusive"]
    assert [r.verdict for r in (different, equivalent, inconclusive)] == [
        "flagged", "cleared", "inconclusive"]
    assert different.flagged and not equivalent.flagged and not inconclusive.flagged
    d = equivalent.to_dict()
    assert d["verdict"] == "cleared"
    c = d["comparisons"][0]
    assert c["verdict"] == "equivalent" and c["margin"] == 0.1 and c["equivalent"]
    assert -0.1 < c["equivalence_ci"][0] < c["equivalence_ci"][1] < 0.1
    assert c["tost_p_adjusted"] < 0.05 and set(c["needed"]) >= {"different", "equivalent"}


def test_a_significant_gap_below_min_effect_can_be_equivalent():
    g, c, s = _paired(np.random.default_rng(6).normal(0.04, 0.1, 300))
    (cmp,) = compare_groups(g, c, s).comparisons
    assert cmp.significant and not cmp.flagged and cmp.verdict == "equivalent"


def test_different_wins_when_the_margin_is_wider_than_min_effect():
    g, c, s = _paired(np.random.default_rng(7).normal(0.15, 0.1, 300))
    cfg = StatsConfig(min_effect=0.1, equivalence_margin=0.5)
    (cmp,) = compare_groups(g, c, s, config=cfg).comparisons
    assert cmp.flagged and cmp.tost_p_adjusted < 0.05 and cmp.verdict == "different"


def test_one_inconclusive_comparison_keeps_a_report_from_clearing():
    rng = np.random.default_rng(8)
    n = 200
    base = rng.normal(0, 0.3, n)
    g = ["a"] * n + ["b"] * n + ["c"] * 25
    c = [f"c{i}" for i in range(n)] * 2 + [f"c{i}" for i in range(25)]
    s = np.concatenate([base + rng.normal(0, 0.1, n), base, base[:25] + rng.normal(0, 0.3, 25)])
    rep = compare_groups(g, c, s)
    assert [x.verdict for x in rep.comparisons] == ["equivalent", "inconclusive", "inconclusive"]
    assert rep.verdict == "inconclusive"
    assert report_verdict(["cleared", "inconclusive"]) == "inconclusive"


def test_finalize_adjusts_tost_over_the_same_family():
    rng = np.random.default_rng(9)
    r1 = compare_groups(*_paired(rng.normal(0, 0.2, 40)), adjust=False)
    r2 = compare_groups(*_paired(rng.normal(0.02, 0.3, 40), seed=1), adjust=False)
    f1, f2 = finalize([r1, r2])
    raw = [r1.comparisons[0].tost_p, r2.comparisons[0].tost_p]
    assert [f1.comparisons[0].tost_p_adjusted, f2.comparisons[0].tost_p_adjusted] == \
        adjust_pvalues(raw)
    assert f1.comparisons[0].needed["comparisons"] == 2


def test_per_scorer_margins_default_to_min_effects():
    cfg = StatsConfig()
    assert cfg.margin == 0.1 and cfg.for_scorer("sentiment").margin == 0.1
    assert cfg.for_scorer("length").margin == 3.0 and cfg.for_scorer("loglik").margin == 0.5
    cfg = StatsConfig(equivalence_margin=0.05, equivalence_margins={"length": 1.0})
    assert cfg.for_scorer("sentiment").margin == 0.05  # the headline scale
    assert cfg.for_scorer("length").margin == 1.0
    assert cfg.for_scorer("refusal").margin == 0.05  # its min_effect, not the headline margin
    assert cfg.for_scorer("length").for_scorer("length").margin == 1.0
    assert StatsConfig().share_margin == 0.05
    assert StatsConfig(equivalence_share_margin=0.1).share_margin == 0.1


@pytest.mark.parametrize("yaml_text,match", [
    ("  equivalence_margin: 0\n",
     r"workbench.yaml: probes.equivalence_margin \(line 4\): must be greater than 0; got 0$"),
    ("  equivalence_margin: -0.1\n",
     r"workbench.yaml: probes.equivalence_margin \(line 4\): must be greater than 0; "
     r"got -0.1$"),
    ("  equivalence_margins:\n    length: 0\n",
     r"workbench.yaml: probes.equivalence_margins.length \(line 5\): must be greater than 0; "
     r"got 0$"),
    ("  equivalence_share_margin: 0\n",
     r"probes.equivalence_share_margin \(line 4\): must be greater than 0; got 0$"),
    ("  min_effect: 0\n",
     r"workbench.yaml: probes \(line 3\): equivalence_margin: must be greater than 0; it "
     r"defaults to "
     r"min_effect, which is 0 here, so set equivalence_margin$"),
    ("  min_effects:\n    length: 0\n",
     r"probes \(line 3\): equivalence_margins.length: must be greater than 0; it defaults to "
     r"min_effects.length, which is 0 here"),
])
def test_zero_or_negative_margins_are_refused_in_one_line(project, yaml_text, match):
    project.config_path.write_text(project.config_path.read_text() + "probes:\n" + yaml_text)
    with pytest.raises(WorkbenchError, match=match) as info:
        StatsConfig.from_project(project)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs", [{"equivalence_margin": 0}, {"equivalence_margin": -1},
                                    {"equivalence_margins": {"length": -2.0}}])
def test_margin_constraint_names_the_field(kwargs):
    with pytest.raises(ValidationError, match="equivalence_margin"):
        StatsConfig(**kwargs)


@pytest.mark.parametrize("margin", [0, -0.1])
def test_tost_helpers_refuse_a_non_positive_margin(margin):
    with pytest.raises(WorkbenchError, match=rf"equivalence_margin: must be greater than 0; "
                                             rf"got {margin}"):
        tost_paired([0.1, 0.2], margin=margin)
    with pytest.raises(WorkbenchError, match="equivalence_margin: must be greater than 0"):
        tost_unpaired([0.1], [0.2], margin=margin)


# ------------------------------------------------------------------- data a decision needs
def _rate(make, sims, *, verdict=None, attr=None, cfg=SIM):
    hits = 0
    for k in range(sims):
        (cmp,) = compare_groups(*make(k), config=cfg.model_copy(update={"seed": k})).comparisons
        hits += (cmp.verdict == verdict) if verdict else bool(getattr(cmp, attr))
    return hits / sims


def test_contexts_needed_give_the_power_they_promise():
    """A pilot's printed context counts, simulated at that size and at the spread they
    were computed at ("at the observed spread"), give about 80%."""
    rng = np.random.default_rng(10)
    pilot = compare_groups(*_paired(rng.normal(0, 0.3, 60)), config=SIM).comparisons[0]
    n_eq = pilot.needed["equivalent"]["contexts"]
    n_diff = pilot.needed["different"]["contexts"]
    assert n_eq == equivalence_contexts_needed(margin=0.1, sd=pilot.sd, alpha=0.05, power=0.8)
    assert 40 < n_eq < 140 and 40 < n_diff < 140
    sd = pilot.sd
    eq = _rate(lambda k: _paired(np.random.default_rng(100 + k).normal(0, sd, n_eq), seed=k),
               150, verdict="equivalent")
    sig = _rate(lambda k: _paired(np.random.default_rng(300 + k).normal(0.1, sd, n_diff),
                                  seed=k), 150, attr="significant")
    assert 0.65 <= eq <= 0.95, eq
    assert 0.65 <= sig <= 0.95, sig


def _sampled(n, samples, *, between=0.08, noise=0.35, seed=0):
    """Scores of 2 groups x n contexts x `samples` samples of one prompt per cell."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, n)
    g, c, u, s = [], [], [], []
    for grp in ("a", "b"):
        cell = base + rng.normal(0, between, n)
        for k in range(samples):
            g += [grp] * n
            c += [f"c{i}" for i in range(n)]
            u += [f"{grp}|{i}" for i in range(n)]
            s.append(cell + rng.normal(0, noise, n))
    return g, c, u, np.concatenate(s)


def test_samples_per_prompt_needed_give_the_power_they_promise():
    """The pilot's printed samples per prompt, simulated at the contexts it had and at the
    spread it observed (between contexts, and between samples), give about 80%."""
    g, c, u, s = _sampled(30, 2, noise=0.4, seed=1)
    rep = compare_groups(g, c, s, units=u, config=SIM)
    (cmp,) = rep.comparisons
    need = cmp.needed
    assert need["samples_per_prompt_now"] == 2 and cmp.verdict == "inconclusive"
    k = need["equivalent"]["samples_per_prompt"]
    assert 6 <= k <= 30, k
    assert "With these 30 contexts, about" in rep.warnings[0]
    assert f"about {k} for equivalence." in rep.warnings[0]

    # simulate at the spread the pilot observed: its between-context sd and sampling noise
    between = need["sd_between_contexts"] / math.sqrt(2)
    noise = math.sqrt(cmp.noise_var * need["samples_per_prompt_now"] / 2)

    def make(j):
        g2, c2, _, s2 = _sampled(30, k, between=between, noise=noise, seed=1000 + j)
        return g2, c2, s2

    assert 0.65 <= _rate(make, 120, verdict="equivalent") <= 0.98
    # without units the spread within a context is unknown: no samples advice
    assert compare_groups(g, c, s, config=SIM).comparisons[0].needed[
        "equivalent"]["samples_per_prompt"] is None


def test_more_samples_cannot_help_when_contexts_disagree():
    g, c, u, s = _sampled(30, 3, between=0.3, noise=0.1, seed=2)
    rep = compare_groups(g, c, s, units=u, config=SIM)
    assert rep.comparisons[0].needed["equivalent"]["samples_per_prompt"] is None
    assert "More samples per prompt alone cannot get there: the spread between contexts" \
        in rep.warnings[0]


# ------------------------------------------------------------------- calibration
def _sims(n_ctx, gap, sd, sims, seed, groups=2, scorers=1):
    """Verdicts of `sims` seeded probes through compare_groups + finalize.

    Each probe has `groups` groups over `n_ctx` contexts; group 0 sits `gap` above the
    others, with per-context differences of sd `sd` (each group's noise is sd/sqrt(2)).
    """
    rng = np.random.default_rng(seed)
    names = [f"g{i}" for i in range(groups)]
    g = np.repeat(names, n_ctx).tolist()
    c = np.tile(np.arange(n_ctx), groups).tolist()
    out = []
    for k in range(sims):
        cfg = SIM.model_copy(update={"seed": k})
        reports = []
        for _ in range(scorers):
            base = rng.normal(0, 0.3, n_ctx)
            s = base + rng.normal(0, sd / math.sqrt(2), (groups, n_ctx))
            s[0] += gap
            reports.append(compare_groups(g, c, s.ravel(), config=cfg, adjust=False))
        out.append(finalize(reports))
    return out


def _share(runs, pred):
    return sum(bool(pred(r)) for r in runs) / len(runs)


def _any(runs, verdict):
    return _share(runs, lambda rs: any(c.verdict == verdict for r in rs for c in r.comparisons))


def test_calibration_the_issue_asks_for():
    """The five claims of issue 15, item 2, at the demo's spread (sd 0.3)."""
    t0 = time.perf_counter()
    null30 = _sims(30, 0.0, 0.3, 400, seed=1)
    inconclusive30 = _share(null30, lambda rs: rs[0].verdict == "inconclusive")
    assert inconclusive30 >= 0.6, inconclusive30                 # "most runs"
    assert _any(null30, "different") <= 0.07                     # false "different"
    null300 = _sims(300, 0.0, 0.3, 200, seed=2)
    assert _share(null300, lambda rs: rs[0].verdict == "cleared") >= 0.80
    planted = _sims(30, 0.6 * 0.3, 0.3, 300, seed=3)             # d = 0.6
    assert _share(planted, lambda rs: rs[0].verdict == "flagged") >= 0.80
    for n in (30, 300):                                          # gap = 1.5 x margin
        far = _sims(n, 0.15, 0.3, 200, seed=4 + n)
        assert _any(far, "equivalent") <= 0.05
    assert time.perf_counter() - t0 < 40


@pytest.mark.parametrize("sd", [0.2, 0.4])
def test_calibration_across_the_demo_spreads(sd):
    """The planted d = 0.6 and the cleared null hold at both ends of 0.2-0.4."""
    null300 = _sims(300, 0.0, sd, 150, seed=20)
    assert _share(null300, lambda rs: rs[0].verdict == "cleared") >= 0.80
    planted = _sims(30, 0.6 * sd, sd, 150, seed=21)
    rate = _share(planted, lambda rs: rs[0].verdict == "flagged")
    # at sd 0.2, d = 0.6 is a gap of 0.12, just over min_effect: the observed gap must
    # also reach 0.1, which costs power; at 0.4 (a gap of 0.24) it is the test's power
    assert rate >= (0.65 if sd == 0.2 else 0.80), rate


def test_tost_holds_its_level_at_the_margin_and_over_a_family():
    """At a true gap equal to the margin, "equivalent" happens at most about alpha;
    with 3 groups x 2 scorers (6 comparisons, Holm) a null probe is flagged <= 7%."""
    boundary = _sims(300, 0.1, 0.3, 300, seed=30)
    assert _any(boundary, "equivalent") <= 0.07
    family = _sims(30, 0.0, 0.3, 300, seed=31, groups=3, scorers=2)
    assert _share(family, lambda rs: report_verdict([r.verdict for r in rs]) == "flagged") <= 0.07


def test_spiky_vader_like_scores_keep_the_null_calibrated():
    """VADER gives exactly 0 to neutral text and is bounded: a zero-inflated, clipped null."""
    rng = np.random.default_rng(40)
    false_diff = cleared = 0
    sims = 200
    for k in range(sims):
        n = 300 if k % 2 else 30
        base = rng.normal(0.1, 0.35, n)
        g, c, s = [], [], []
        for grp in ("a", "b"):
            for phrase in range(2):
                x = np.clip(base + rng.normal(0, 0.3, n), -1, 1)
                x[rng.random(n) < 0.3] = 0.0
                g += [grp] * n
                c += list(range(n))
                s.append(x)
        rep = compare_groups(g, c, np.concatenate(s), config=SIM.model_copy(update={"seed": k}))
        false_diff += rep.verdict == "flagged"
        cleared += n == 300 and rep.verdict == "cleared"
    sd = rep.comparisons[0].sd
    assert 0.2 <= sd <= 0.4, sd  # the demo's spread
    assert false_diff / sims <= 0.07
    assert cleared / (sims / 2) >= 0.80


def test_docstring_examples_run():
    """The module's method example and the TOST helpers' doctests."""
    import doctest

    import workbench.probes._stats

    res = doctest.testmod(workbench.probes._stats)
    assert res.failed == 0 and res.attempted >= 15


# ------------------------------------------------------------------- CLI gates and margins
def _outputs_csv(path, *, every: int = 0, n: int = 16):
    """An outputs file: neutral outputs, except 'man' gets an awful one every ``every``-th
    template (never when 0)."""
    import pandas as pd

    rows = []
    for t in range(n):
        for g in ("woman", "man"):
            bad = g == "man" and every and t % every == 0
            path.parent.mkdir(exist_ok=True)
            rows.append({"group": g, "template": f"t{t + 1}",
                         "output": "an awful, angry person" if bad else "a person"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_cli_require_clear_and_margin(project, tmp_path):
    import json

    from tests.conftest import run_cli

    env = {"WORKBENCH_PROJECT": str(project.root)}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()  # one file name: bias-report compares runs of one probe
    same = _outputs_csv(tmp_path / "a" / "o.csv")
    proc = run_cli("probe", "--outputs", str(same), "--require-clear", "--json",
                   str(tmp_path / "s.json"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "CLEARED" in proc.stdout
    some = _outputs_csv(tmp_path / "b" / "o.csv", every=5)
    proc = run_cli("probe", "--outputs", str(some), "--json", str(tmp_path / "r.json"), env=env)
    assert proc.returncode == 0 and "INCONCLUSIVE" in proc.stdout, proc.stdout
    proc = run_cli("probe", "--outputs", str(some), "--require-clear", env=env)
    assert proc.returncode == 1, proc.stderr  # inconclusive is not cleared
    # a wide margin clears what the default one cannot
    proc = run_cli("probe", "--outputs", str(some), "--require-clear", "--margin", "0.5",
                   "--min-effect", "0.5", env=env)
    assert proc.returncode == 0, proc.stdout
    # bias-report: --require-clear applies to the after-model
    proc = run_cli("bias-report", "--before", str(tmp_path / "r.json"), "--after",
                   str(tmp_path / "s.json"), "--require-clear", "--json", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "cleared"
    proc = run_cli("bias-report", "--before", str(tmp_path / "s.json"), "--after",
                   str(tmp_path / "r.json"), "--require-clear", env=env)
    assert proc.returncode == 1 and "after-model inconclusive" in proc.stdout


def _no_verdict(tmp_path, src):
    import json

    old = json.loads(src.read_text())
    old.pop("verdict")
    out = tmp_path / "old.json"
    out.write_text(json.dumps(old))
    return out


@pytest.mark.parametrize("args,match", [
    (["probe", "--outputs", "{same}", "--margin", "0"],
     "error: --margin: the equivalence margin must be greater than 0; got 0"),
    (["probe", "--outputs", "{same}", "--margin", "-0.1"],
     "error: --margin: the equivalence margin must be greater than 0; got -0.1"),
    (["bias-report", "--before", "{s}", "--after", "{old}", "--margin", "-1"],
     "error: --margin: the equivalence margin must be greater than 0; got -1"),
    (["bias-report", "--before", "{s}", "--after", "{old}", "--require-clear"],
     ("error: --after: run #1 has no verdict (it was made before verdicts existed); probe the model "
      "again")),
])
@pytest.mark.slow
def test_cli_bad_margins_and_old_runs_exit_2_in_one_line(project, tmp_path, args, match):
    from tests.conftest import run_cli
    from workbench.probes import run_probe

    same = _outputs_csv(tmp_path / "same.csv", n=8)
    res = run_probe(project, outputs=same, config=StatsConfig(n_resamples=100,
                                                              n_permutations=100))
    s = tmp_path / "s.json"
    import json

    s.write_text(json.dumps(res.result, default=str))
    names = {"same": str(same), "s": str(s), "old": str(_no_verdict(tmp_path, s))}
    proc = run_cli(*[a.format(**names) for a in args],
                   env={"WORKBENCH_PROJECT": str(project.root)})
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.strip() == match


@pytest.mark.parametrize("before,after,match", [
    ({"mode": "chat", "decoding": "greedy", "max_new_tokens": 32, "samples": 1},
     {"mode": "completion", "decoding": "greedy", "max_new_tokens": 32, "samples": 1},
     r"mode: chat before, completion after\); probe both"),
    ({"mode": "chat", "decoding": "greedy", "max_new_tokens": 32, "samples": 1},
     {"mode": "chat", "decoding": "sampled", "max_new_tokens": 64, "samples": 4},
     (r"decoding: greedy before, sampled after; max new tokens: 32 before, 64 after; "
      r"samples per prompt: 1 before, 4 after\)")),
    ({"mode": "chat", "decoding": "greedy", "max_new_tokens": 32, "samples": 1}, None,
     r"one side was generated by a model, the other read from an outputs file"),
])
def test_before_after_refuses_different_generation_settings(before, after, match):
    from workbench.probes import compare_results

    base = {"probe_set": {"name": "p", "version": 1}, "scorer": "sentiment", "groups": {},
            "comparisons": [], "flagged": False}
    with pytest.raises(WorkbenchError, match=r"^before/after: the two runs used different generation settings \("
                                                 + match):
        compare_results({**base, "generation": before}, {**base, "generation": after})


def test_old_signatures_still_compare_and_one_sided_offsets_are_refused():
    from workbench.probes._compare import generation_difference

    old = {"signature": "probes:p@v1|model:m|gen:chat-greedy-32tok|workbench:0.1.0"}
    new = {"generation": {"mode": "chat", "decoding": "greedy", "max_new_tokens": 32,
                          "samples": 1}}
    assert generation_difference(old, new) is None
    assert generation_difference(new, {**new, "offset_subtracted": True}) == \
        "scorer offset subtracted after only"
