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

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

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
from ..core.errors import ConfigError, DataError, WorkbenchError, did_you_mean
from ..data import is_conversation_column, parse_messages
from ..data import to_messages as _conversations_of
from ._counterfactual import MARKER, MODES, counterfactual_frame, load_swaps


class StepArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnsArgs(StepArgs):
    columns: list[str] = Field(min_length=1)


#: ``turns``: the roles a step rewrites in a column of conversations (default: every
#: turn), as the text rules read them.
Turns = list[str] | None


class NormalizeArgs(StepArgs):
    columns: list[str] | None = None
    form: Literal["NFC", "NFKC", "NFD", "NFKD"] = "NFKC"
    turns: Turns = Field(None, min_length=1)


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
    turns: Turns = Field(None, min_length=1)


class ToMessagesArgs(StepArgs):
    """``to_messages``: prompt/response columns -> one column of conversations."""

    prompt: str
    response: str
    system: str | None = None
    into: str = "messages"
    keep_columns: bool = Field(False, description="keep the prompt and response columns")


class CounterfactualArgs(StepArgs):
    """``counterfactual_augment``: swap group words (see :mod:`._counterfactual`)."""

    columns: list[str] = Field(min_length=1)
    groups: str = "gender"
    mode: str = "add"
    names: bool = False
    turns: Turns = Field(None, min_length=1)
    marker: str = MARKER

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        if v not in MODES:
            raise ValueError(f"must be 'add' or 'replace'; got {v!r}")
        return v


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
    details: dict[str, Any] = {}


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


def _rewrite_value(v: Any, fn: Callable[[str], str], chosen: set[str] | None,
                   conversations: bool) -> tuple[Any, list[int | None]]:
    """``fn`` applied to a text value, or to the content of the chosen turns of a
    conversation; returns the new value and what changed (``[None]`` for a text, the
    turn numbers for a conversation). Malformed conversations are left as they are: the
    format rule reports them and ``drop_unexpected_rows`` removes them."""
    if isinstance(v, str) and not conversations:
        new = fn(v)
        return (new, [None]) if new != v else (v, [])
    if not conversations or v is None or isinstance(v, (str, float)):
        return v, []
    try:
        turns = parse_messages(v, strict=False)
    except WorkbenchError:
        return v, []
    changed: list[int | None] = []
    for i, t in enumerate(turns):
        content = t.get("content")
        if isinstance(content, str) and (chosen is None or t.get("role") in chosen):
            new = fn(content)
            if new != content:
                t["content"] = new
                changed.append(i)
    return (turns, changed) if changed else (v, [])


def _rewrite(frame, cols: list[str], fn: Callable[[str], str], turns: list[str] | None,
             ctx: _Ctx, *, show_before: bool = True):
    """Rewrite the text of ``cols`` (conversation columns: the chosen turns)."""
    conv = {c: is_conversation_column(frame[c]) for c in cols}
    if turns is not None and not any(conv.values()):
        raise DataError(f"turns: column '{cols[0]}' holds text, not conversations; "
                        "'turns' chooses the roles rewritten in a column of messages "
                        "(lists of {role, content} turns)", param="turns")
    chosen = None if turns is None else set(turns)
    out = frame.copy()
    changed: set[int] = set()
    examples = []
    for c in cols:
        values = frame[c].tolist()
        new_values = list(values)
        touched = False
        for p, v in enumerate(values):
            new, where = _rewrite_value(v, fn, chosen, conv[c])
            if not where:
                continue
            new_values[p], touched = new, True
            changed.add(p)
            if len(examples) < EXAMPLES:
                ex: dict[str, Any] = {"row": _label(frame, p, ctx), "column": c}
                if where[0] is not None:
                    ex["turn"] = where[0]
                    before, after = v[where[0]]["content"], new[where[0]]["content"]
                else:
                    before, after = v, new
                if show_before:
                    ex["before"] = before
                ex["after"] = after
                examples.append(ex)
        if touched:
            dtype = object if conv[c] else frame[c].dtype
            out[c] = pd.Series(new_values, index=out.index, dtype=dtype)
    return out, len(changed), examples


def _normalize(frame, a: NormalizeArgs, ctx):
    cols = a.columns or [c for c in frame.columns if frame[c].dtype == object
                         or pd.api.types.is_string_dtype(frame[c].dtype)]
    return _rewrite(frame, cols, lambda t: tidy_text(t, form=a.form), a.turns, ctx)


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
    # the examples show the masked text only: never copy PII around
    return _rewrite(frame, a.columns, lambda t: mask_pii(t, a.kinds), a.turns, ctx,
                    show_before=False)


def _to_messages(frame, a: ToMessagesArgs, ctx):
    if a.into in frame.columns and a.into not in (a.prompt, a.response):
        raise DataError(f"into: the data already has a column '{a.into}'; name another "
                        "column for the conversations", param="into")
    conv = _conversations_of(frame, a.prompt, a.response, system=a.system)
    out = frame.copy()
    if not a.keep_columns:
        out = out.drop(columns=list(dict.fromkeys([a.prompt, a.response])))
    out[a.into] = conv.to_numpy()
    made = [p for p, v in enumerate(conv) if v is not None]
    examples = [{"row": _label(frame, p, ctx), "column": a.into, "after": conv.iloc[p]}
                for p in made[:EXAMPLES]]
    return out, len(made), examples


def _counterfactual(frame, a: CounterfactualArgs, ctx):
    swaps = load_swaps(_groups_path(ctx.suite, a.groups), names=a.names)
    id_col = ctx.id_column if ctx.id_column in frame.columns else None
    out, summary = counterfactual_frame(frame, columns=a.columns, swaps=swaps, mode=a.mode,
                                        id_column=id_col, marker=a.marker, turns=a.turns)
    details = {k: v for k, v in summary.to_dict().items() if k != "examples"}
    return out, summary.rows_changed, [dict(e) for e in summary.examples], details


def _groups_path(suite: SuiteSpec, groups: str) -> str:
    """A pairs file named relative to the rules file, else the name as given."""
    from pathlib import Path

    if suite.path and (groups.endswith((".yaml", ".yml")) or "/" in groups):
        near = Path(suite.path).parent / groups
        if not Path(groups).is_absolute() and near.is_file() and not Path(groups).is_file():
            return str(near)
    return groups


def _drop_unexpected(frame, a: UnexpectedArgs, ctx):
    rule = ctx.suite.rule(a.rule)
    if rule.engine != "workbench" or RULES[rule.type].kind != "map":
        raise ConfigError(
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
    "to_messages": (ToMessagesArgs, _to_messages),
    "counterfactual_augment": (CounterfactualArgs, _counterfactual),
}


def _columns_of(args: StepArgs) -> list[tuple[str, str]]:
    out = []
    for key in ("column", "prompt", "response"):
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
        if isinstance(args, CounterfactualArgs):
            try:
                load_swaps(_groups_path(suite, args.groups), names=args.names)
            except WorkbenchError as exc:
                msg = str(exc).removeprefix("groups: ")
                raise suite.error(f"{where}.groups", msg) from None
        if columns is not None:
            for key, col in _columns_of(args):
                if col not in columns:
                    raise suite.error(f"{where}.{key}", f"no column '{col}'"
                                      f"{did_you_mean(col, columns)}; it has: "
                                      f"{', '.join(columns)}")
        out.append((step, args))
    return out


def _step_error(suite: SuiteSpec, where: str, exc: WorkbenchError) -> WorkbenchError:
    """A step's own ``param: message`` error, placed at the step's field in the file."""
    msg = str(exc)
    if suite.path and msg.startswith(suite.path):
        return exc
    field, sep, rest = msg.partition(": ")
    if sep and re.fullmatch(r"[a-z_]+", field):
        return suite.error(f"{where}.{field}", rest)
    return suite.error(where, msg)


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
        try:
            current, changed, examples, *details = STEPS[step.type][1](current, args, ctx)
        except WorkbenchError as exc:
            raise _step_error(suite, f"clean[{step.index}]", exc) from None
        reports.append(CleanStepReport(index=step.index, type=step.type, rows_before=before,
                                       rows_after=len(current),
                                       rows_removed=max(before - len(current), 0),
                                       rows_changed=changed, examples=examples,
                                       details=details[0] if details else {}))
    if progress:
        progress(len(steps), len(steps), "done")
    return current, reports


__all__ = ["STEPS", "CounterfactualArgs", "ToMessagesArgs", "CleanReport", "CleanStepReport", "clean_frame", "validate_steps"]
