"""Text-aware rules Great Expectations lacks, reported exactly like its expectations.

Each rule is a registered function over a pandas frame with a pydantic model of its
keyword arguments (``extra="forbid"``, so a misspelt keyword is caught at load time).
Column map rules follow Great Expectations' conventions: missing values are skipped,
``unexpected_percent`` is over the non-missing values and ``mostly`` sets the share
that must pass. Aggregate rules report an ``observed`` value and no unexpected rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.config import rename_keys
from ._report import EXAMPLES
from ._text import (
    PII_KINDS,
    column_parts,
    find_pii,
    has_stray_whitespace,
    joined_text,
    typo_duplicate_of,
    word_count,
)


@dataclass
class Outcome:
    """What a rule found; ``unexpected_rows`` are row positions (for cleaning)."""

    success: bool
    element_count: int
    unexpected_count: int = 0
    unexpected_percent: float = 0.0
    examples: list = field(default_factory=list)
    observed: Any = None
    unexpected_rows: list[int] | None = None


class RuleArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Old keyword -> new keyword; the old one is accepted with a warning naming the new.
    renamed_keys: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_keys(data, cls.renamed_keys)


#: ``turns``: the roles a text rule reads in a column of conversations (default: every
#: turn); ``_text.column_parts`` reads them.
Turns = list[str] | None


class ColumnMapArgs(RuleArgs):
    column: str
    mostly: float = Field(1.0, ge=0.0, le=1.0)
    turns: Turns = Field(None, min_length=1)


@dataclass(frozen=True)
class Rule:
    name: str
    args: type[RuleArgs]
    fn: Callable[..., Outcome]
    kind: Literal["map", "aggregate"]
    doc: str


RULES: dict[str, Rule] = {}


def register_rule(name: str, args: type[RuleArgs], *, kind: Literal["map", "aggregate"] = "map"):
    """Register a workbench rule under an expectation-style ``name``."""
    def deco(fn):
        RULES[name] = Rule(name, args, fn, kind, (fn.__doc__ or "").strip().splitlines()[0])
        return fn
    return deco


def _row_label(frame: pd.DataFrame, pos: int, id_column: str | None):
    return frame[id_column].iloc[pos] if id_column else pos


def _map_outcome(frame: pd.DataFrame, values: pd.Series, bad: pd.Series, mostly: float,
                 id_column: str | None, extra: Callable[[int, Any], dict] | None = None) -> Outcome:
    """``values``: the non-missing values (index = row positions); ``bad``: a mask on them."""
    nonmissing = len(values)
    bad_pos = [int(p) for p in values.index[bad.to_numpy(dtype=bool)]]
    n_bad = len(bad_pos)
    pct = 100.0 * n_bad / nonmissing if nonmissing else 0.0
    success = nonmissing == 0 or (nonmissing - n_bad) / nonmissing >= mostly
    examples = []
    for p in bad_pos[:EXAMPLES]:
        ex = {"row": _row_label(frame, p, id_column), "value": values.loc[p]}
        if extra:
            ex.update(extra(p, values.loc[p]))
        examples.append(ex)
    return Outcome(success, len(frame), n_bad, pct, examples, unexpected_rows=bad_pos)


def _text_parts(frame: pd.DataFrame, column: str, turns: list[str] | None = None) -> pd.Series:
    """The texts of each non-missing value of ``column``: one per turn of a conversation
    (``_text.column_parts``); index = row positions."""
    parts = pd.Series(column_parts(frame[column].reset_index(drop=True), turns), dtype=object)
    return parts[parts.notna()]


def _text_values(frame: pd.DataFrame, column: str, turns: list[str] | None = None) -> pd.Series:
    """The non-missing texts of ``column``, a conversation's turns joined by newlines."""
    return _text_parts(frame, column, turns).map("\n".join)


# ------------------------------------------------------------------ column map rules
class WordCountArgs(ColumnMapArgs):
    min_value: int | None = Field(None, ge=0)
    max_value: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_value is None and self.max_value is None:
            raise ValueError("give min_value, max_value or both")
        if (self.min_value is not None and self.max_value is not None
                and self.min_value > self.max_value):
            raise ValueError(f"min_value {self.min_value} is above max_value {self.max_value}")
        return self


@register_rule("expect_column_value_word_counts_to_be_between", WordCountArgs)
def _word_counts(frame, args: WordCountArgs, id_column=None) -> Outcome:
    """Each value has between min_value and max_value words (whitespace-separated)."""
    values = _text_values(frame, args.column, args.turns)
    counts = values.map(word_count)
    bad = pd.Series(False, index=values.index)
    if args.min_value is not None:
        bad |= counts < args.min_value
    if args.max_value is not None:
        bad |= counts > args.max_value
    return _map_outcome(frame, values, bad, args.mostly, id_column,
                        lambda p, v: {"words": int(counts.loc[p])})


class WhitespaceArgs(ColumnMapArgs):
    internal: bool = True


@register_rule("expect_column_values_to_not_have_stray_whitespace", WhitespaceArgs)
def _whitespace(frame, args: WhitespaceArgs, id_column=None) -> Outcome:
    """No leading or trailing whitespace (and, with internal, no double spaces or tabs);
    in a conversation, in any of its turns."""
    parts = _text_parts(frame, args.column, args.turns)
    values = parts.map("\n".join)
    bad = parts.map(lambda ts: any(has_stray_whitespace(t, internal=args.internal) for t in ts))
    return _map_outcome(frame, values, bad, args.mostly, id_column)


class PiiArgs(ColumnMapArgs):
    kinds: list[Literal["email", "phone", "card"]] = list(PII_KINDS)


@register_rule("expect_column_values_to_not_contain_pii", PiiArgs)
def _pii(frame, args: PiiArgs, id_column=None) -> Outcome:
    """No e-mail address, phone number or (Luhn-valid) card number in the values."""
    values = _text_values(frame, args.column, args.turns)
    found = values.map(lambda v: find_pii(v, args.kinds))
    bad = found.map(bool)
    return _map_outcome(frame, values, bad, args.mostly, id_column,
                        lambda p, v: {"pii": sorted({k for k, _ in found.loc[p]})})


class LabelKeywordArgs(ColumnMapArgs):
    label_column: str
    keywords: dict[str, list[str]]

    @model_validator(mode="after")
    def _nonempty(self):
        empty = [k for k, v in self.keywords.items() if not v]
        if not self.keywords or empty:
            raise ValueError("give at least one keyword per label" +
                             (f" (none for {', '.join(map(repr, empty))})" if empty else ""))
        return self


@register_rule("expect_column_values_to_mention_label_keywords", LabelKeywordArgs)
def _label_keywords(frame, args: LabelKeywordArgs, id_column=None) -> Outcome:
    """Each text mentions a keyword of its own label (catches mislabelled rows).

    Keywords match at the start of a word, case-insensitively ("ship" matches
    "shipping"). Rows whose label is missing or has no keyword list are skipped.
    """
    pats = {lab: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w.lower()) for w in words) + ")")
            for lab, words in args.keywords.items()}
    labels = frame[args.label_column].reset_index(drop=True)
    values = _text_values(frame, args.column, args.turns)
    keep = [p for p in values.index if not pd.isna(labels.loc[p]) and str(labels.loc[p]) in pats]
    values = values.loc[keep]
    bad = pd.Series([not pats[str(labels.loc[p])].search(values.loc[p].lower())
                     for p in values.index], index=values.index, dtype=bool)
    return _map_outcome(frame, values, bad, args.mostly, id_column,
                        lambda p, v: {"label": str(labels.loc[p])})


class ColumnOrList(BaseModel):
    """Arguments naming one ``column`` or a ``column_list`` (exactly one of them)."""

    column: str | None = None
    column_list: list[str] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.column is None) == (self.column_list is None):
            raise ValueError("give either column or column_list")
        return self

    @property
    def columns(self) -> list[str]:
        return [self.column] if self.column else list(self.column_list or [])


class NearDuplicateArgs(RuleArgs, ColumnOrList):
    max_rate: float = Field(0.0, ge=0.0, le=1.0)
    max_edits: int = Field(2, ge=0, le=5)
    turns: Turns = Field(None, min_length=1)


@register_rule("expect_column_near_duplicate_rate_to_be_at_most", NearDuplicateArgs)
def _near_duplicates(frame, args: NearDuplicateArgs, id_column=None) -> Outcome:
    """At most max_rate of the rows repeat an earlier row after normalisation.

    Normalised text ignores case, unicode form, punctuation and whitespace; with
    max_edits > 0 a typo of up to that many characters within one word also counts.
    The first row of each group is kept; the later ones are unexpected.
    """
    texts = joined_text(frame, args.columns, args.turns)
    dup = typo_duplicate_of(texts, max_edits=args.max_edits)
    values = pd.Series([t for t in texts if t is not None],
                       index=[i for i, t in enumerate(texts) if t is not None], dtype=object)
    bad = pd.Series([p in dup for p in values.index], index=values.index, dtype=bool)
    out = _map_outcome(frame, values, bad, 1.0, id_column,
                       lambda p, v: {"duplicate_of": _row_label(frame, dup[p], id_column)})
    rate = out.unexpected_count / len(values) if len(values) else 0.0
    out.success = rate <= args.max_rate
    out.observed = {"near_duplicate_rate": rate}
    return out


# ------------------------------------------------------------------ aggregate rules
class ShareArgs(RuleArgs):
    column: str
    min_share: float = Field(gt=0.0, le=1.0)
    value_set: list[Any] | None = None


@register_rule("expect_column_value_shares_to_be_at_least", ShareArgs, kind="aggregate")
def _shares(frame, args: ShareArgs, id_column=None) -> Outcome:
    """Every label class (value_set, or the values seen) has at least min_share of the rows."""
    s = frame[args.column].dropna()
    counts = s.astype(str).value_counts()
    classes = [str(v) for v in args.value_set] if args.value_set else list(counts.index)
    n = len(s)
    shares = {c: (float(counts.get(c, 0)) / n if n else 0.0) for c in classes}
    low = [{"value": c, "share": round(v, 6), "rows": int(counts.get(c, 0))}
           for c, v in sorted(shares.items(), key=lambda kv: kv[1]) if v < args.min_share]
    return Outcome(not low, len(frame), examples=low[:EXAMPLES],
                   observed={c: round(v, 6) for c, v in shares.items()})


DEFAULT_GROUP_TERMS: dict[str, list[str]] = {
    "female": ["she", "her", "hers", "herself", "woman", "women", "girl", "girls", "mother",
               "mum", "mom", "daughter", "sister", "wife", "grandmother", "aunt", "lady"],
    "male": ["he", "him", "his", "himself", "man", "men", "boy", "boys", "father", "dad",
             "son", "brother", "husband", "grandfather", "uncle", "gentleman"],
}


class BalanceArgs(RuleArgs):
    column: str | None = None
    column_list: list[str] | None = None
    groups: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_GROUP_TERMS))
    max_distance: float = Field(0.2, ge=0.0, le=1.0)
    min_mentions: int = Field(1, ge=0)
    turns: Turns = Field(None, min_length=1)

    @model_validator(mode="after")
    def _check(self):
        if (self.column is None) == (self.column_list is None):
            raise ValueError("give either column or column_list")
        if len(self.groups) < 2:
            raise ValueError("groups needs at least two groups of terms")
        return self

    @property
    def columns(self) -> list[str]:
        return [self.column] if self.column else list(self.column_list or [])


@register_rule("expect_column_demographic_mentions_to_be_balanced", BalanceArgs,
               kind="aggregate")
def _balance(frame, args: BalanceArgs, id_column=None) -> Outcome:
    """Mentions of each group's terms are near uniform: total-variation distance from
    the uniform share is at most max_distance (0 = perfectly balanced, 1 - 1/k = one
    group only). Whole-word, case-insensitive matches; fewer than min_mentions in all
    passes with the distance reported as 0."""
    texts = [t.lower() for t in joined_text(frame, args.columns, args.turns)
             if t is not None]
    blob = "\n".join(texts)
    mentions = {}
    for g, words in args.groups.items():
        pat = re.compile(r"\b(?:" + "|".join(re.escape(w.lower()) for w in words) + r")\b")
        mentions[g] = len(pat.findall(blob))
    total = sum(mentions.values())
    k = len(mentions)
    shares = {g: (m / total if total else 0.0) for g, m in mentions.items()}
    dist = 0.5 * sum(abs(s - 1 / k) for s in shares.values()) if total >= max(args.min_mentions, 1) else 0.0
    success = dist <= args.max_distance
    examples = [] if success else [{"group": g, "mentions": mentions[g], "share": round(shares[g], 6)}
                                   for g in mentions]
    return Outcome(success, len(frame), examples=examples,
                   observed={"distance": round(dist, 6), "mentions": mentions})


def rule_columns(args: RuleArgs) -> list[tuple[str, str]]:
    """``(keyword, column)`` pairs a rule reads, for the column check."""
    out = []
    for key in ("column", "label_column"):
        v = getattr(args, key, None)
        if v:
            out.append((key, v))
    for i, c in enumerate(getattr(args, "column_list", None) or []):
        out.append((f"column_list[{i}]", c))
    return out


def run_rule(name: str, args: RuleArgs, frame: pd.DataFrame, *, id_column: str | None) -> Outcome:
    return RULES[name].fn(frame, args, id_column=id_column)
