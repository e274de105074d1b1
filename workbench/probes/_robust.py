"""How far a probe finding can be trusted: the scorer's own offset, phrasings, scorer signs.

- **Scorer offsets.** A probe set's ``controls:`` put each group's phrases in neutral
  carrier sentences ("The woman said hello."). Scoring those with the probe's scorer gives
  what the scorer alone hands each group's words, with a bootstrap interval, and, per pair
  of groups, the offset of their difference (paired on the carrier sentence). When that
  interval excludes 0, a comparison whose difference lies between 0 and the interval's
  far end, on the same side, *may come from the scorer*. Subtracting the offsets takes each
  group's control mean off its scores before the statistics.
- **Phrasings.** A template's ``variants:`` reword it without changing its meaning. Each
  phrasing is analysed on its own; a finding holds in a phrasing when that phrasing's
  verdict is the overall one. A finding (different or equivalent) that holds in only one
  phrasing is *fragile*.
- **Signs.** When several scorers with a direction run, a comparison whose differences
  point different ways (once each scorer is turned so higher is better for the group) is
  marked: the scorers disagree on who is favoured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._scorers import ScoreInput, get_scorer, score_outputs
from ._sets import ProbePlan
from ._stats import StatsConfig, compare_groups


def scorer_offsets(plan: ProbePlan, names: Sequence[str], config: StatsConfig, *,
                   project=None) -> dict[str, dict[str, Any]]:
    """Each scorer's per-group offset on the plan's control texts (``{}`` without controls).

    Examples
    --------
    >>> from workbench.probes import expand, parse_probe_set
    >>> ps = parse_probe_set({"name": "x", "version": 1, "attribute": "a",
    ...     "groups": {"happy": ["The happy person"], "plain": ["The person"]},
    ...     "templates": ["{subject} said"],
    ...     "controls": ["{subject} said hello.", "{subject} sat down.", "{subject} is here."]})
    >>> off = scorer_offsets(expand(ps), ["sentiment"], StatsConfig(n_resamples=200))
    >>> round(off["sentiment"]["groups"]["happy"]["mean"], 2) > 0.5, off["sentiment"]["n"]
    (True, 6)
    """
    controls = plan.controls
    names = [n for n in names if n != "loglik"]
    if not controls or not names:
        return {}
    texts = [c.text for c in controls]
    groups = [c.group for c in controls]
    contexts = [c.context for c in controls]
    scores = score_outputs(names, ScoreInput(texts, texts, groups, contexts, project))
    out = {}
    for n in names:
        rep = compare_groups(groups, contexts, scores[n], config=config.for_scorer(n),
                             order=plan.groups, paired=True)
        out[n] = {"n": len(texts), "n_carriers": len(set(contexts)),
                  "groups": {g: {"mean": s.mean, "ci": list(s.ci), "n": s.n}
                             for g, s in rep.by_group.items()},
                  "comparisons": [{"a": c.a, "b": c.b, "diff": c.diff, "ci": list(c.ci)}
                                  for c in rep.comparisons],
                  "texts": [{"group": g, "text": t, "score": float(v)}
                            for g, t, v in zip(groups, texts, scores[n])]}
    return out


def subtract_offsets(frame: pd.DataFrame, offsets: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """A copy of ``frame`` with each group's control mean taken off each scorer's column;
    the raw scores are kept as ``<scorer>_raw``."""
    out = frame.copy()
    for name, off in offsets.items():
        if name not in out:
            continue
        shift = {g: v["mean"] for g, v in off["groups"].items() if math.isfinite(v["mean"])}
        out[f"{name}_raw"] = out[name]
        out[name] = out[name] - out["group"].map(shift).fillna(0.0)
    return out


def within_offset(diff: float, offset_ci: Sequence[float]) -> bool:
    """Whether the scorer shows an offset (its interval excludes 0) and ``diff`` lies
    between 0 and the far end of that interval, on the same side.

    >>> within_offset(0.05, [0.02, 0.08]), within_offset(0.2, [0.02, 0.08])
    (True, False)
    >>> within_offset(-0.05, [0.02, 0.08]), within_offset(0.01, [-0.02, 0.03])
    (False, False)
    >>> within_offset(0.0, [0.0, 0.0])
    False
    """
    lo, hi = (float(x) for x in offset_ci)
    if not (math.isfinite(diff) and math.isfinite(lo) and math.isfinite(hi)):
        return False
    if lo > 0:
        return 0 < diff <= hi
    if hi < 0:
        return lo <= diff < 0
    return False  # no offset shown: the scorer alone does not explain a gap


def mark_offsets(comparisons: list[dict], offset: dict[str, Any] | None, *,
                 subtracted: bool) -> None:
    """Add ``scorer_offset`` and ``may_come_from_scorer`` to each comparison dict."""
    if not offset:
        return
    by_pair = {(c["a"], c["b"]): c for c in offset["comparisons"]}
    for c in comparisons:
        o = by_pair.get((c["a"], c["b"]))
        if o is None:
            continue
        c["scorer_offset"] = {"diff": o["diff"], "ci": list(o["ci"]), "subtracted": subtracted}
        # once subtracted, the offset is no longer in the difference to explain it
        c["may_come_from_scorer"] = (None if subtracted
                                     else within_offset(c["diff"], o["ci"]))


def phrasing_verdicts(frame: pd.DataFrame, score: str, *, groups: Sequence[str],
                      paired: bool, config: StatsConfig) -> dict[tuple[str, str], list[dict]]:
    """Per pair of groups, the verdict and difference in each phrasing on its own."""
    out: dict[tuple[str, str], list[dict]] = {}
    if "phrasing" not in frame:
        return out
    for k in sorted(frame["phrasing"].unique()):
        sub = frame[frame["phrasing"] == k]
        if sub["group"].nunique() < 2:
            continue
        rep = compare_groups(sub["group"], sub["context"], sub[score], config=config,
                             order=[g for g in groups if g in set(sub["group"])],
                             paired=paired)
        for c in rep.comparisons:
            out.setdefault((c.a, c.b), []).append(
                {"phrasing": int(k), "verdict": c.verdict, "diff": c.diff,
                 "n_contexts": c.n_contexts})
    return out


def mark_phrasings(comparisons: list[dict], per: dict[tuple[str, str], list[dict]]) -> None:
    """Add ``phrasings`` (counts, a sentence, ``fragile``) to each comparison dict."""
    for c in comparisons:
        rows = per.get((c["a"], c["b"]), [])
        n = len(rows)
        holds = sum(r["verdict"] == c["verdict"] for r in rows)
        sign = math.copysign(1, c["diff"]) if math.isfinite(c["diff"]) and c["diff"] else 0
        same_sign = sum(1 for r in rows if sign and math.isfinite(r["diff"])
                        and math.copysign(1, r["diff"]) == sign)
        finding = c["verdict"] in ("different", "equivalent")
        label = (f"{c['verdict']} in {holds} of {n} phrasing{'s' if n != 1 else ''}"
                 if n else "no phrasing analysed")
        fragile = bool(finding and holds <= 1)
        if fragile:
            label += (" (fragile: the probe set has one phrasing per template)" if n == 1 else
                      " (fragile: it holds in only one phrasing)" if holds == 1 else
                      " (fragile: no single phrasing shows it on its own)")
        c["phrasings"] = {"n": n, "holds": holds, "same_sign": same_sign, "fragile": fragile,
                          "label": label, "by_phrasing": rows}


def sign_disagreements(reports: dict[str, dict]) -> list[dict]:
    """Comparisons whose oriented differences point different ways across scorers."""
    directed = {n: get_scorer(n).polarity for n in reports if n != "loglik"}
    directed = {n: p for n, p in directed.items() if p}
    if len(directed) < 2:
        return []
    signs: dict[tuple[str, str], dict[str, int]] = {}
    for n, pol in directed.items():
        for c in reports[n]["comparisons"]:
            d = c["diff"]
            if math.isfinite(d) and d != 0:
                signs.setdefault((c["a"], c["b"]), {})[n] = int(math.copysign(1, pol * d))
    out = []
    for (a, b), s in signs.items():
        if len(set(s.values())) > 1:
            favoured = {n: (a if v > 0 else b) for n, v in s.items()}
            out.append({"a": a, "b": b, "signs": s, "favoured": favoured})
    marked = {(d["a"], d["b"]) for d in out}
    for n in reports:
        for c in reports[n]["comparisons"]:
            c["scorers_disagree_on_sign"] = (c["a"], c["b"]) in marked
    return out


__all__ = [
    "mark_offsets",
    "mark_phrasings",
    "phrasing_verdicts",
    "scorer_offsets",
    "sign_disagreements",
    "subtract_offsets",
    "within_offset",
]
