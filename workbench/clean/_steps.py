"""Declared cleaning rules that turn a dataset version into a NEW version.

Rules come from a ``clean:`` list (in a suite file or a file of its own), each a
``type:`` with keyword arguments, applied in order::

    clean:
      - type: normalize_text          # unicode NFKC, strip, collapse spaces
        columns: [question, answer]
      - type: drop_nulls
        columns: [question, answer]
      - type: drop_unexpected_rows    # rows a workbench rule of the suite flags
        rule: topic_keywords          # (its meta.id)

The parent version is never modified: the result is written with
:func:`workbench.data.save_version` and a lineage edge ``clean`` to its parent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..checks import RULES, SuiteSpec
from ..checks._report import EXAMPLES
from ..checks._rules import ColumnOrList, run_rule
from ..checks._text import (
    PII_KINDS,
    joined_text,
    mask_pii,
    tidy_text,
    typo_duplicate_of,
)
from ..core.config import ConfigSource, validate
from ..core.errors import WorkbenchError, did_you_mean


class StepArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnsArgs(StepArgs):
    columns: list[str] = Field(min_length=1)


class NormalizeArgs(StepArgs):
    columns: list[str] | None = None
    form: Literal["NFC", "NFKC", "NFD", "NFKD"] = "NFKC"


class DuplicatesArgs(StepArgs):
    columns: list[str] | None = None


class NearDuplicatesArgs(StepArgs, ColumnOrList):
    max_edits: int = Field(2, ge=0, le=5)


class LengthArgs(StepArgs):
    column: str
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=0)
    min_chars: int | None = Field(None, ge=0)
    max_chars: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _some(self):
        if all(v is None for v in (self.min_words, self.max_words, self.min_chars,
                                   self.max_chars)):
            raise ValueError("give at least one of min_words, max_words, min_chars, max_chars")
        return self


class PiiArgs(StepArgs):
    columns: list[str] = Field(min_length=1)
    kinds: list[Literal["email", "phone", "card"]] = list(PII_KINDS)


class UnexpectedArgs(StepArgs):
    rule: str


class CleanStepReport(BaseModel):
    """What one step did."""

    model_config = ConfigDict(extra="forbid")

    index: int
    type: str
    rows_before: int
    rows_after: int
    rows_removed: int
    rows_changed: int
    examples: list[dict[str, Any]]


class CleanReport(BaseModel):
    """The result of ``clean``: the new version and a summary per step."""

    model_config = ConfigDict(extra="forbid")

    parent: str
    result: str
    created: bool
    rows_before: int
    rows_after: int
    rules: str
    steps: list[CleanStepReport]
    run_id: int | None = None
    engine: str = "pandas"

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass
class _Ctx:
    suite: SuiteSpec
    id_column: str | None


def _label(frame: pd.DataFrame, pos: int, ctx: _Ctx):
    return frame[ctx.id_column].iloc[pos] if ctx.id_column in frame.columns else pos


def _drop(frame, positions: list[int], ctx: _Ctx, describe: Callable[[int], dict]):
    examples = [{"row": _label(frame, p, ctx), **describe(p)} for p in positions[:EXAMPLES]]
    keep = pd.Series(True, index=range(len(frame)))
    keep.iloc[positions] = False
    return frame[keep.to_numpy()].reset_index(drop=True), 0, examples


def _normalize(frame, a: NormalizeArgs, ctx):
    cols = a.columns or [c for c in frame.columns if frame[c].dtype == object
                         or pd.api.types.is_string_dtype(frame[c].dtype)]
    out = frame.copy()
    changed: set[int] = set()
    examples = []
    for c in cols:
        for p, v in enumerate(frame[c]):
            if isinstance(v, str):
                new = tidy_text(v, form=a.form)
                if new != v:
                    out.iloc[p, out.columns.get_loc(c)] = new
                    if len(examples) < EXAMPLES:
                        examples.append({"row": _label(frame, p, ctx), "column": c,
                                         "before": v, "after": new})
                    changed.add(p)
    return out, len(changed), examples


def _drop_nulls(frame, a: ColumnsArgs, ctx):
    isna = frame[a.columns].isna()
    pos = [int(p) for p in range(len(frame)) if isna.iloc[p].any()]
    return _drop(frame, pos, ctx, lambda p: {"null": [c for c in a.columns if isna.iloc[p][c]]})


def _drop_duplicates(frame, a: DuplicatesArgs, ctx):
    cols = a.columns or list(frame.columns)
    dup = frame.duplicated(subset=cols, keep="first")
    pos = [int(p) for p in range(len(frame)) if dup.iloc[p]]
    first: dict[tuple, int] = {}
    for p, row in enumerate(frame[cols].astype(str).itertuples(index=False, name=None)):
        first.setdefault(row, p)
    key = frame[cols].astype(str)
    return _drop(frame, pos, ctx, lambda p: {"duplicate_of": _label(
        frame, first[tuple(key.iloc[p])], ctx)})


def _drop_near(frame, a: NearDuplicatesArgs, ctx):
    dup = typo_duplicate_of(joined_text(frame, a.columns), max_edits=a.max_edits)
    return _drop(frame, sorted(dup), ctx,
                 lambda p: {"duplicate_of": _label(frame, dup[p], ctx)})


def _filter_length(frame, a: LengthArgs, ctx):
    s = frame[a.column]
    pos = []
    for p, v in enumerate(s):
        if not isinstance(v, str):
            continue
        words, chars = len(v.split()), len(v)
        if ((a.min_words is not None and words < a.min_words)
                or (a.max_words is not None and words > a.max_words)
                or (a.min_chars is not None and chars < a.min_chars)
                or (a.max_chars is not None and chars > a.max_chars)):
            pos.append(p)
    return _drop(frame, pos, ctx, lambda p: {"words": len(str(s.iloc[p]).split()),
                                             "chars": len(str(s.iloc[p]))})


def _mask(frame, a: PiiArgs, ctx):
    out = frame.copy()
    changed: set[int] = set()
    examples = []
    for c in a.columns:
        for p, v in enumerate(frame[c]):
            if isinstance(v, str):
                new = mask_pii(v, a.kinds)
                if new != v:
                    out.iloc[p, out.columns.get_loc(c)] = new
                    changed.add(p)
                    if len(examples) < EXAMPLES:
                        # the example shows the masked text only: never copy PII around
                        examples.append({"row": _label(frame, p, ctx), "column": c,
                                         "after": new})
    return out, len(changed), examples


def _drop_unexpected(frame, a: UnexpectedArgs, ctx):
    rule = ctx.suite.rule(a.rule)
    if rule.engine != "workbench" or RULES[rule.type].kind != "map":
        raise WorkbenchError(
            f"{ctx.suite.path}: rule '{a.rule}' is {rule.type}; drop_unexpected_rows needs a "
            "workbench row rule: " + ", ".join(n for n, r in RULES.items() if r.kind == "map"))
    out = run_rule(rule.type, RULES[rule.type].args(**rule.kwargs), frame,
                   id_column=ctx.id_column if ctx.id_column in frame.columns else None)
    pos = out.unexpected_rows or []
    return _drop(frame, pos, ctx, lambda p: {"rule": a.rule})


STEPS: dict[str, tuple[type[StepArgs], Callable]] = {
    "normalize_text": (NormalizeArgs, _normalize),
    "drop_nulls": (ColumnsArgs, _drop_nulls),
    "drop_duplicates": (DuplicatesArgs, _drop_duplicates),
    "drop_near_duplicates": (NearDuplicatesArgs, _drop_near),
    "filter_length": (LengthArgs, _filter_length),
    "mask_pii": (PiiArgs, _mask),
    "drop_unexpected_rows": (UnexpectedArgs, _drop_unexpected),
}


def _columns_of(args: StepArgs) -> list[tuple[str, str]]:
    out = []
    for key in ("column",):
        v = getattr(args, key, None)
        if v:
            out.append((key, v))
    for key in ("columns", "column_list"):
        for i, c in enumerate(getattr(args, key, None) or []):
            out.append((f"{key}[{i}]", c))
    return out


def validate_steps(suite: SuiteSpec, columns: list[str] | None = None) -> list[tuple[Any, StepArgs]]:
    """Validate every ``clean:`` step (and, given ``columns``, the columns it names)."""
    if not suite.clean:
        raise suite.error("clean", "no cleaning rules; add a 'clean:' list, for example "
                          "- type: drop_nulls, columns: [answer]; known rules: "
                          + ", ".join(STEPS))
    out = []
    for step in suite.clean:
        where = f"clean[{step.index}]"
        if step.type not in STEPS:
            raise suite.error(f"{where}.type", f"unknown cleaning rule '{step.type}'"
                              f"{did_you_mean(step.type, STEPS)}; known: {', '.join(STEPS)}")
        model = STEPS[step.type][0]
        args = validate(model, step.kwargs, ConfigSource(suite.path, suite.lines), at=where,
                        keywords_of=step.type)
        if isinstance(args, UnexpectedArgs):
            suite.rule(args.rule)
        if columns is not None:
            for key, col in _columns_of(args):
                if col not in columns:
                    raise suite.error(f"{where}.{key}", f"no column '{col}'"
                                      f"{did_you_mean(col, columns)}; it has: "
                                      f"{', '.join(columns)}")
        out.append((step, args))
    return out


def clean_frame(frame: pd.DataFrame, suite: SuiteSpec, *,
                progress: Callable[[int, int, str], None] | None = None
                ) -> tuple[pd.DataFrame, list[CleanStepReport]]:
    """Apply the suite's ``clean:`` steps to a copy of ``frame``; return it and a summary."""
    steps = validate_steps(suite, [str(c) for c in frame.columns])
    ctx = _Ctx(suite, suite.id_column)
    current = frame.reset_index(drop=True).copy()
    reports = []
    for k, (step, args) in enumerate(steps):
        if progress:
            progress(k, len(steps), step.type)
        before = len(current)
        current, changed, examples = STEPS[step.type][1](current, args, ctx)
        reports.append(CleanStepReport(index=step.index, type=step.type, rows_before=before,
                                       rows_after=len(current),
                                       rows_removed=before - len(current),
                                       rows_changed=changed, examples=examples))
    if progress:
        progress(len(steps), len(steps), "done")
    return current, reports


__all__ = ["STEPS", "CleanReport", "CleanStepReport", "clean_frame", "validate_steps"]
