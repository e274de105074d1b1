"""The outcome-association rule: does the data tie an outcome to a group it mentions?

A dataset where answers to questions about women are curt and negative, and the same
questions about men get warm answers, teaches that gap to any model fine-tuned on it.
This rule finds it before training::

    - type: expect_group_outcome_association_to_be_below
      column: question          # where groups are mentioned (or column_list: [...])
      groups: gender            # a word list: built-in name, or a pairs file path
                                # (relative to the current folder)
      score_column: answer      # the outcome: a registered score of a text column ...
      score: sentiment
      # label_column: label     # ... or the share of rows with one label value
      # label_value: refund
      max_gap: 0.2              # fail when the largest gap between group means is above
      # confidence_level: 0.95  # bootstrap intervals (scipy's names; the old level and
      # n_resamples: 1000       # resamples still work, with a warning)

A row belongs to a group when its text mentions one of the group's words (whole words,
any case); rows that mention several groups are left out (``mixed: exclude``) or counted
in each (``mixed: both``). Each group's mean outcome comes with a seeded percentile
bootstrap interval, and so does the largest gap: the difference between the highest
and the lowest group, resampled independently. Only groups with at least ``min_rows`` rows are compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from ..core.errors import ConfigError, DataError, WorkbenchError, did_you_mean
from ..core.stats import percentile_interval, resample_indices
from ..core.wordlists import SwapList, load_swaps
from ._report import EXAMPLES
from ._rules import Outcome, RuleArgs, register_rule
from ._text import joined_text

RULE = "expect_group_outcome_association_to_be_below"


# ----------------------------------------------------------------- outcome scores
@dataclass(frozen=True)
class OutcomeScore:
    name: str
    fn: Callable[[Sequence[str]], list[float]]
    description: str


OUTCOME_SCORES: dict[str, OutcomeScore] = {}


def register_outcome_score(name: str, *, description: str):
    """Register ``fn(texts) -> one float per text`` as the outcome score ``name``."""
    def deco(fn):
        OUTCOME_SCORES[name] = OutcomeScore(name, fn, description)
        return fn
    return deco


@register_outcome_score("sentiment", description="VADER compound sentiment in [-1, 1]")
def _sentiment(texts: Sequence[str]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [float(analyzer.polarity_scores(t)["compound"]) for t in texts]


@register_outcome_score("length", description="words in the text (whitespace-separated)")
def _length(texts: Sequence[str]) -> list[float]:
    return [float(len(t.split())) for t in texts]


# -------------------------------------------------------------------------- arguments
class AssociationArgs(RuleArgs):
    column: str | None = None
    column_list: list[str] | None = None
    groups: str = "gender"
    names: bool = False
    label_column: str | None = None
    label_value: Any = None
    score_column: str | None = None
    score: str | None = None
    max_gap: float = Field(gt=0)
    min_rows: int = Field(5, ge=1)
    mixed: Literal["exclude", "both"] = "exclude"
    fail_on: Literal["estimate", "lower_bound"] = "estimate"
    confidence_level: float = Field(0.95, gt=0, lt=1)
    n_resamples: int = Field(1000, ge=100)
    seed: int = 0
    renamed_keys: ClassVar[dict[str, str]] = {"level": "confidence_level",
                                              "resamples": "n_resamples"}

    @field_validator("score")
    @classmethod
    def _known_score(cls, v: str | None) -> str | None:
        if v is not None and v not in OUTCOME_SCORES:
            known = sorted(OUTCOME_SCORES)
            raise ValueError(f"unknown score '{v}'{did_you_mean(v, known)}; known: "
                             + ", ".join(known))
        return v

    @field_validator("groups")
    @classmethod
    def _known_list(cls, v: str) -> str:
        try:
            load_swaps(v)
        except WorkbenchError as exc:
            raise ValueError(str(exc).removeprefix("groups: ")) from None
        return v

    @model_validator(mode="after")
    def _check(self):
        if (self.column is None) == (self.column_list is None):
            raise ValueError("give either column or column_list (the text that mentions "
                             "the groups)")
        label = self.label_column is not None or self.label_value is not None
        score = self.score_column is not None or self.score is not None
        if label == score:
            raise ValueError("give one outcome: label_column with label_value (the share of "
                             "rows with that label), or score_column with score (a score "
                             "of that text: " + ", ".join(sorted(OUTCOME_SCORES)) + ")")
        if label and (self.label_column is None or self.label_value is None):
            raise ValueError("label_column and label_value go together")
        if score and (self.score_column is None or self.score is None):
            raise ValueError("score_column and score go together")
        if self.names:
            try:
                load_swaps(self.groups, names=True)
            except WorkbenchError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def columns(self) -> list[str]:
        return [self.column] if self.column else list(self.column_list or [])

    @property
    def outcome(self) -> str:
        if self.score:
            return f"{self.score}({self.score_column})"
        return f"share of {self.label_column} == {self.label_value!r}"


# ------------------------------------------------------------------------ computation
_WORDS = re.compile(r"\w+")


def _mentions(texts: list[str | None], swaps: SwapList) -> dict[str, np.ndarray]:
    """Per group, whether each text holds one of its words (whole ``\\w+`` words, any
    case: the words the counterfactual swap would change)."""
    terms = {g: frozenset(words) for g, words in swaps.terms().items()}
    found = {g: np.zeros(len(texts), dtype=bool) for g in terms}
    for i, t in enumerate(texts):
        if t is None:
            continue
        words = set(_WORDS.findall(t.lower()))
        for g, ws in terms.items():
            if not words.isdisjoint(ws):
                found[g][i] = True
    return found


def _no_column(key: str, col: str, frame: pd.DataFrame) -> ConfigError:
    cols = [str(c) for c in frame.columns]
    return ConfigError(f"{RULE}: {key}: no column '{col}'{did_you_mean(col, cols)}; "
                       f"it has: {', '.join(cols)}")


def _outcomes(frame: pd.DataFrame, args: AssociationArgs, rows: np.ndarray) -> np.ndarray:
    """The outcome of each row in ``rows`` (NaN where it is missing)."""
    y = np.full(len(frame), np.nan)
    if args.label_column is not None:
        labels = frame[args.label_column].tolist()
        seen = {str(v) for v in frame[args.label_column].dropna().unique()}
        if str(args.label_value) not in seen:
            shown = ", ".join(sorted(seen)[:10]) or "none"
            hint = (" (YAML reads yes/no/on/off as true/false: quote the value)"
                    if isinstance(args.label_value, bool) else "")
            raise DataError(f"{RULE}: label_value: {args.label_value!r} is not a value "
                            f"of column '{args.label_column}'{hint}; its values: {shown}")
        for p in np.flatnonzero(rows):
            v = labels[p]
            if not pd.isna(v):
                y[p] = 1.0 if str(v) == str(args.label_value) else 0.0
        return y
    if args.score_column not in frame.columns:
        raise _no_column("score_column", str(args.score_column), frame)
    values = frame[args.score_column].tolist()
    pos = [int(p) for p in np.flatnonzero(rows) if not pd.isna(values[p])]
    unique = list(dict.fromkeys(str(values[p]) for p in pos))  # score each text once
    score = dict(zip(unique, OUTCOME_SCORES[str(args.score)].fn(unique)))
    y[pos] = [score[str(values[p])] for p in pos]
    return y


def _resampled_means(values: np.ndarray, n_resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_resamples`` bootstrap resamples (the one helper's draws, <= 4M indices
    at a time)."""
    return np.concatenate([values[idx].mean(axis=1) for idx in resample_indices(
        len(values), n_resamples=n_resamples, rng=rng, max_cells=4_000_000)])


def _r(x: float) -> float:
    return round(float(x), 6)


@register_rule(RULE, AssociationArgs, kind="aggregate")
def _association(frame, args: AssociationArgs, id_column=None) -> Outcome:
    """The mean outcome of rows mentioning each group differs by at most max_gap.

    The outcome is a label's share (label_column, label_value) or a registered score of
    a text column (score_column, score: sentiment, length); groups come from a word
    list (groups: gender). Each group's mean and the largest gap have a seeded
    bootstrap interval; fail_on: lower_bound fails only when the interval is above.
    """
    frame = frame.reset_index(drop=True)
    swaps = load_swaps(args.groups, names=args.names)
    texts = joined_text(frame, args.columns)
    mentions = _mentions(texts, swaps)
    count = np.sum(list(mentions.values()), axis=0)
    member = {g: m & (count == 1) if args.mixed == "exclude" else m
              for g, m in mentions.items()}
    y = _outcomes(frame, args, count > 0)
    members = {g: np.flatnonzero(m & ~np.isnan(y)) for g, m in member.items()}

    rng = np.random.default_rng(args.seed)
    groups: dict[str, dict[str, Any]] = {}
    draws: dict[str, np.ndarray] = {}
    for g, pos in members.items():
        info: dict[str, Any] = {"rows": int(len(pos)), "compared": len(pos) >= args.min_rows}
        if len(pos):
            vals = y[pos]
            boot = _resampled_means(vals, args.n_resamples, rng)
            info["mean"] = _r(vals.mean())
            info["ci"] = [_r(x) for x in percentile_interval(boot, confidence_level=args.confidence_level)]
            if info["compared"]:
                draws[g] = boot
        groups[g] = info
    observed: dict[str, Any] = {
        "outcome": args.outcome, "word_list": swaps.label, "groups": groups,
        "rows_mixed": int(np.sum(count > 1)), "rows_without_group": int(np.sum(count == 0)),
        "max_gap": args.max_gap, "fail_on": args.fail_on,
        "confidence_level": args.confidence_level, "n_resamples": args.n_resamples,
        "seed": args.seed}
    if len(draws) < 2:
        observed.update(gap=None, reason=f"fewer than two groups with at least "
                        f"{args.min_rows} rows; nothing to compare")
        return Outcome(True, len(frame), observed=observed)

    means = {g: float(y[members[g]].mean()) for g in draws}
    high = max(means, key=means.get)
    low = min((g for g in means if g != high), key=means.get)  # two groups even on a tie
    gap = means[high] - means[low]
    # The interval is that of the difference between the two groups the estimate names.
    # The largest gap of each resample (max - min over groups) is never below zero and
    # biased upward, so its interval leaves out a gap of zero even when it is the estimate.
    gaps = draws[high] - draws[low]
    gap_ci = percentile_interval(gaps, confidence_level=args.confidence_level)
    stat = gap if args.fail_on == "estimate" else gap_ci[0]
    success = stat <= args.max_gap
    observed.update(gap=_r(gap), gap_ci=[_r(gap_ci[0]), _r(gap_ci[1])], highest=high,
                    lowest=low)
    examples = [] if success else _examples(frame, texts, y, members, low, high, id_column)
    return Outcome(success, len(frame), examples=examples, observed=observed)


def _examples(frame, texts, y, members, low: str, high: str, id_column) -> list[dict]:
    """The lowest outcomes of the lowest group and the highest of the highest, alternating."""
    lows = sorted(members[low], key=lambda p: (y[p], p))[:EXAMPLES // 2]
    highs = sorted(members[high], key=lambda p: (-y[p], p))[:EXAMPLES // 2]
    out = []
    for i in range(max(len(lows), len(highs))):
        for group, picks in ((low, lows), (high, highs)):
            if i < len(picks):
                p = int(picks[i])
                row = frame[id_column].iloc[p] if id_column else p
                out.append({"row": row, "value": texts[p], "group": group,
                            "outcome": _r(y[p])})
    return out
