"""Classification fairness through fairlearn: per-group accuracy, selection rate, TPR and
FPR (``MetricFrame``), demographic parity and equalized odds differences, each with a
bootstrap interval and a three-way verdict; and the change between two models on the
same examples (before/after).

The point values are fairlearn's. Intervals come from the project's one bootstrap helper
(:mod:`workbench.core.stats`, through the metrics' resampling: the same seeded draws as every other
interval); on each resample the per-group rates are counted for all resamples at once,
because 1000 ``MetricFrame`` calls would take minutes; the tests pin those counts to
fairlearn on resamples.

Verdict per difference (the probes' rule, on a quantity that is never negative):

- *different*: a group-permutation test of "every group has the same rate" gives a
  Holm-adjusted p below ``alpha``, and the observed difference is at least ``min_effect``;
- *equivalent*: the bootstrap p for "the difference is at least ``margin``" (the share of
  resampled differences at or above the margin), Holm-adjusted, is below ``alpha``; this is
  the one side of a TOST that a non-negative difference needs;
- *inconclusive*: everything else. Per report: flagged if any difference is different,
  cleared if both are equivalent, else inconclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..core.errors import ConfigError, DataError
from .metrics import adjust_pvalues
from ..core.stats import percentile_interval
from .metrics._bootstrap import _check, _resample_values

Verdict = Literal["different", "equivalent", "inconclusive"]
ReportVerdict = Literal["flagged", "cleared", "inconclusive"]
RATES = ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate")
DIFFERENCES = ("demographic_parity_difference", "equalized_odds_difference")
#: label names taken as the positive class of a binary classification, in this order
POSITIVE_NAMES = ("1", "true", "yes", "pos", "positive", "toxic", "spam")
MIN_EFFECT = 0.1


def positive_class(labels: Sequence[str], positive_label: str | None) -> str:
    """The positive class: ``positive_label`` if given, else the one obvious name of two."""
    names = sorted(set(labels))
    if positive_label is not None:
        if str(positive_label) not in names:
            raise DataError(f"positive label '{positive_label}' is not one of the labels "
                            f"({', '.join(names)})", param="positive_label")
        return str(positive_label)
    if len(names) <= 2:
        for cand in POSITIVE_NAMES:
            hit = [n for n in names if n.lower() == cand]
            if hit:
                return hit[0]
    raise DataError(f"fairness needs to know the positive class among the labels "
                    f"({', '.join(names[:10])}{', ...' if len(names) > 10 else ''}); "
                    "name the positive label", param="positive_label")


class _GroupCounts:
    """What each example adds to its group's rates, as the bootstrap helper resamples it
    (``n``, ``resampled(index)``, ``bleu_stats``: the :class:`Scores` protocol)."""

    bleu_stats = None

    def __init__(self, yt: np.ndarray, yp: np.ndarray, hit: np.ndarray, g: np.ndarray,
                 n_groups: int):
        self.yt, self.yp, self.hit, self.g, self.k = yt, yp, hit, g, n_groups
        self.n = len(yt)

    def rates(self, yt, yp, hit, g) -> dict[str, np.ndarray]:
        """Per-group rates ``(B, groups)`` for rows of examples (NaN where undefined)."""
        b, m = g.shape
        base = np.repeat(np.arange(b), m) * self.k + g.ravel()

        def count(w):
            return np.bincount(base, weights=w.ravel().astype(float),
                               minlength=b * self.k).reshape(b, self.k)

        ones = np.ones_like(yt)
        n, pos = count(ones), count(yt)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {"accuracy": count(hit) / n, "selection_rate": count(yp) / n,
                    "true_positive_rate": count(yt & yp) / pos,
                    "false_positive_rate": count((1 - yt) & yp) / (n - pos)}

    def resampled(self, index: np.ndarray | None) -> dict[str, np.ndarray]:
        if index is None:
            index = np.arange(self.n)[None, :]
        return _flatten(self.rates(self.yt[index], self.yp[index], self.hit[index],
                                   self.g[index]), self.k)


def _spread(v: np.ndarray) -> np.ndarray:
    """Largest minus smallest group rate per row; NaN unless every group has the rate."""
    if not v.size:
        return np.full(v.shape[0], np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(v).any(axis=1), np.nan,
                        np.nanmax(v, axis=1) - np.nanmin(v, axis=1))


def _flatten(rates: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Rates per group (``rate#g``) and the two differences, per resample row
    (equalized odds: the larger of the TPR and FPR spreads, fairlearn's ``worst_case``)."""
    out = {f"{name}#{j}": v[:, j] for name, v in rates.items() for j in range(k)}
    out["demographic_parity_difference"] = _spread(rates["selection_rate"])
    tpr, fpr = _spread(rates["true_positive_rate"]), _spread(rates["false_positive_rate"])
    out["equalized_odds_difference"] = np.where(np.isnan(tpr) | np.isnan(fpr), np.nan,
                                                np.maximum(tpr, fpr))
    return out


def _verdict(p_diff: float, p_eq: float, value: float, *, alpha: float,
             min_effect: float) -> Verdict:
    if p_diff < alpha and value >= min_effect:
        return "different"
    if p_eq < alpha:
        return "equivalent"
    return "inconclusive"


def report_verdict(verdicts: Sequence[str]) -> ReportVerdict:
    """Flagged if any is different, cleared if all are equivalent, else inconclusive."""
    if any(v == "different" for v in verdicts):
        return "flagged"
    if verdicts and all(v == "equivalent" for v in verdicts):
        return "cleared"
    return "inconclusive"


@dataclass(frozen=True)
class FairnessReport:
    """Per-group rates and the parity differences of one classification, with verdicts.

    ``by_group[metric][group]`` and ``by_group_ci`` (fairlearn's ``MetricFrame.by_group``
    shape, one metric per key); ``differences[name]`` holds ``value``, ``ci``, ``p_value``
    (difference test), ``p_equivalent`` (equivalence), both Holm-adjusted, and ``verdict``.
    """

    group_col: str
    positive_label: str
    groups: list[str]
    counts: dict[str, int]
    overall: dict[str, float]
    by_group: dict[str, dict[str, float]]
    by_group_ci: dict[str, dict[str, list[float]]]
    differences: dict[str, dict]
    verdict: ReportVerdict
    alpha: float
    min_effect: float
    margin: float
    versions: str
    warnings: list[str] = field(default_factory=list)
    groups_of: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        return {"group_col": self.group_col, "positive_label": self.positive_label,
                "groups": self.groups, "counts": self.counts, "overall": self.overall,
                "by_group": self.by_group, "by_group_ci": self.by_group_ci,
                "differences": self.differences, "verdict": self.verdict,
                "alpha": self.alpha, "min_effect": self.min_effect, "margin": self.margin,
                "signature": self.versions}


def _check_settings(alpha: float, min_effect: float, margin: float | None) -> float:
    if not 0 < alpha < 0.5:
        raise ConfigError(f"alpha must be in (0, 0.5); got {alpha!r}", param="alpha")
    if not min_effect > 0:
        raise ConfigError(f"minimum effect must be greater than 0; got {min_effect!r}",
                          param="min_effect")
    margin = min_effect if margin is None else margin
    if not margin > 0:
        raise ConfigError(f"equivalence margin must be greater than 0; got {margin!r}",
                          param="margin")
    return float(margin)


def _encode(refs, preds, groups, positive_label, group_col):
    keep = np.array([g != "(missing)" for g in groups])
    names = sorted({g for g, k in zip(groups, keep) if k})
    if len(names) < 2:
        raise DataError(f"group column '{group_col}' has {len(names)} group(s) "
                        f"({', '.join(names) or 'none'}); fairness compares at least 2",
                        param="group_col")
    pos = positive_class([*refs, *[p for p in preds if p != "(missing)"]], positive_label)
    index = {n: i for i, n in enumerate(names)}
    r = np.array(refs, dtype=object)[keep]
    p = np.array(preds, dtype=object)[keep]
    g = np.array([index[x] for x, k in zip(groups, keep) if k], dtype=np.int64)
    yt, yp = (r == pos).astype(np.int64), (p == pos).astype(np.int64)
    return names, pos, yt, yp, (r == p).astype(np.int64), g, int((~keep).sum())


def _metric_frame(yt, yp, hit, g, names):
    """fairlearn's ``MetricFrame`` over the four rates (accuracy from exact label matches,
    passed in as ``hit`` through the sample parameters)."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    def accuracy(y_true, y_pred, hit):
        return float(np.mean(hit)) if len(hit) else float("nan")

    groups = np.array(names, dtype=object)[g]
    mf = MetricFrame(
        metrics={"accuracy": accuracy, "selection_rate": selection_rate,
                 "true_positive_rate": true_positive_rate,
                 "false_positive_rate": false_positive_rate},
        y_true=yt, y_pred=yp, sensitive_features=groups,
        sample_params={"accuracy": {"hit": hit}})
    by_group = {m: {str(k): float(v) for k, v in mf.by_group[m].items()} for m in RATES}
    overall = {m: float(mf.overall[m]) for m in RATES}
    diffs = {"demographic_parity_difference":
             float(demographic_parity_difference(yt, yp, sensitive_features=groups)),
             "equalized_odds_difference":
             float(equalized_odds_difference(yt, yp, sensitive_features=groups))}
    return by_group, overall, diffs


def _permutation_p(counts: _GroupCounts, observed: dict[str, float], *, n_resamples: int,
                   seed: int) -> dict[str, float]:
    """p of "every group has the same rate": groups shuffled over the examples."""
    rng = np.random.default_rng([seed, 1])
    hits = dict.fromkeys(DIFFERENCES, 0)
    valid = dict.fromkeys(DIFFERENCES, 0)
    chunk = max(1, min(n_resamples, 2_000_000 // max(1, counts.n)))
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        g = rng.permuted(np.tile(counts.g, (b, 1)), axis=1)
        yt, yp, hit = (np.tile(x, (b, 1)) for x in (counts.yt, counts.yp, counts.hit))
        flat = _flatten(counts.rates(yt, yp, hit, g), counts.k)
        for name in DIFFERENCES:
            v = flat[name][~np.isnan(flat[name])]
            hits[name] += int(np.sum(v >= observed[name] - 1e-12))
            valid[name] += len(v)
        done += b
    return {k: (1 + hits[k]) / (valid[k] + 1) if np.isfinite(observed[k]) else 1.0
            for k in DIFFERENCES}


def classification_fairness(references: Sequence[str], predictions: Sequence[str],
                            groups: Sequence[str], *, group_col: str = "group",
                            positive_label: str | None = None, n_resamples: int = 1000,
                            seed: int = 0, alpha: float = 0.05,
                            min_effect: float = MIN_EFFECT,
                            margin: float | None = None) -> FairnessReport:
    """Per-group rates and parity differences of predicted labels, with verdicts.

    Parameters
    ----------
    references, predictions
        True and predicted labels (text).
    groups
        The group of each example; ``"(missing)"`` rows are left out (and counted).
    positive_label
        The positive class (default: the obvious one of two labels, such as ``1`` or
        ``pos``); selection rate, TPR and FPR are about it.
    n_resamples, seed
        Bootstrap resamples (>= 1000, also the number of group permutations) and seed.
    alpha, min_effect, margin
        Test level; the smallest difference called "different"; the equivalence margin
        (default ``min_effect``).

    Examples
    --------
    A perfect classifier, equal rates: too few examples to show it, then enough.

    >>> def run(n):
    ...     return classification_fairness(["1", "0"] * n, ["1", "0"] * n, ["a"] * n + ["b"] * n)
    >>> rep = run(20)
    >>> rep.differences["demographic_parity_difference"]["value"], rep.verdict
    (0.0, 'inconclusive')
    >>> run(400).verdict
    'cleared'
    """
    from importlib.metadata import version

    _check(n_resamples, 0.95)
    margin = _check_settings(alpha, min_effect, margin)
    names, pos, yt, yp, hit, g, dropped = _encode(list(references), list(predictions),
                                                  list(groups), positive_label, group_col)
    by_group, overall, diffs = _metric_frame(yt, yp, hit, g, names)
    counts = _GroupCounts(yt, yp, hit, g, len(names))
    [boot] = _resample_values([counts], n_resamples=n_resamples, seed=seed)
    by_group_ci = {m: {name: _ci(boot[f"{m}#{j}"]) for j, name in enumerate(names)}
                   for m in RATES}
    p_diff = _permutation_p(counts, diffs, n_resamples=n_resamples, seed=seed)
    # an observed difference that is undefined (a group with no positives or no
    # negatives) can be neither shown nor ruled out
    p_eq = {k: (1 + int(np.sum(boot[k][~np.isnan(boot[k])] >= margin)))
            / (int(np.sum(~np.isnan(boot[k]))) + 1) if np.isfinite(diffs[k]) else 1.0
            for k in DIFFERENCES}
    adj_diff = dict(zip(DIFFERENCES, adjust_pvalues([p_diff[k] for k in DIFFERENCES])))
    adj_eq = dict(zip(DIFFERENCES, adjust_pvalues([p_eq[k] for k in DIFFERENCES])))
    differences = {}
    for k in DIFFERENCES:
        differences[k] = {"value": diffs[k], "ci": _ci(boot[k]), "p_value": adj_diff[k],
                          "p_equivalent": adj_eq[k],
                          "verdict": _verdict(adj_diff[k], adj_eq[k], diffs[k], alpha=alpha,
                                              min_effect=min_effect)}
    warnings = []
    if dropped:
        warnings.append(f"{dropped} rows have no {group_col} and were left out of fairness")
    group_n = {name: int(np.sum(g == j)) for j, name in enumerate(names)}
    for k in DIFFERENCES:
        undefined = float(np.mean(np.isnan(boot[k])))
        if undefined > 0.05:
            warnings.append(f"{k.replace('_', ' ')}: undefined in {undefined:.0%} of "
                            "resamples (a group without positives or negatives); too few "
                            "examples per group to say much")
    return FairnessReport(
        group_col=group_col, positive_label=pos, groups=names, counts=group_n,
        overall=overall, by_group=by_group, by_group_ci=by_group_ci, differences=differences,
        verdict=report_verdict([d["verdict"] for d in differences.values()]), alpha=alpha,
        min_effect=min_effect, margin=margin,
        versions=f"fairlearn:{version('fairlearn')},pos:{pos},perm:{n_resamples},"
                 f"holm,margin:{margin:g}",
        warnings=warnings,
        groups_of=[str(x) for x in groups])


def _ci(v: np.ndarray, confidence_level: float = 0.95) -> list[float]:
    if np.isnan(v).all():
        return [float("nan"), float("nan")]
    return list(percentile_interval(v, confidence_level=confidence_level))


def fairness_change(a: tuple[list[str], list[str]], b: tuple[list[str], list[str]],
                    groups: Sequence[str], *, group_col: str = "group",
                    positive_label: str | None = None, n_resamples: int = 1000, seed: int = 0,
                    margin: float = MIN_EFFECT) -> dict:
    """Before/after: ``b - a`` for each parity difference over the same examples (paired
    bootstrap on the same draws), each called widened, narrowed, unchanged within the
    margin, or inconclusive.

    ``a`` and ``b`` are ``(references, predictions)`` of the same examples in the same
    order.
    """
    _check(n_resamples, 0.95)
    margin = _check_settings(0.05, margin, margin)
    sides = []
    for refs, preds in (a, b):
        names, pos, yt, yp, hit, g, _ = _encode(list(refs), list(preds), list(groups),
                                                positive_label, group_col)
        positive_label = pos
        sides.append(_GroupCounts(yt, yp, hit, g, len(names)))
    ra, rb = _resample_values(sides, n_resamples=n_resamples, seed=seed)
    va, vb = sides[0].resampled(None), sides[1].resampled(None)
    out = {}
    for k in DIFFERENCES:
        obs = float(vb[k][0] - va[k][0])
        ci = _ci(rb[k] - ra[k])
        if ci[0] > 0:
            change = "widened"
        elif ci[1] < 0:
            change = "narrowed"
        elif -margin < ci[0] and ci[1] < margin:
            change = "unchanged within the margin"
        else:
            change = "inconclusive"
        out[k] = {"a": float(va[k][0]), "b": float(vb[k][0]), "diff": obs, "ci": ci,
                  "change": change}
    return {"group_col": group_col, "positive_label": positive_label, "margin": margin,
            "differences": out}
