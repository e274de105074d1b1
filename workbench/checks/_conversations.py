"""Rules for columns of conversations (the ``messages`` format of chat fine-tuning).

Both are column map rules, reported like the other workbench rules: missing values are
skipped, each failing row is named (by ``id_column`` when the suite has one) with the
reason, and malformed rows are reported, never raised.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field, model_validator

from ..core.errors import ConfigError, DataError, WorkbenchError
from ..data._conversations import (
    CHATML_TEMPLATE,
    ROLES,
    SystemRule,
    conversation_problems,
    parse_messages,
)
from ._rules import Outcome, RuleArgs, _map_outcome, register_rule


def _values(frame: pd.DataFrame, column: str) -> pd.Series:
    """The non-missing values of ``column`` as they are (index = row positions)."""
    s = frame[column].reset_index(drop=True)
    return s[[not _missing(v) for v in s]]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


class ConversationArgs(RuleArgs):
    column: str
    mostly: float = Field(1.0, ge=0.0, le=1.0)
    roles: list[str] = Field(default_factory=lambda: list(ROLES), min_length=1)
    system: SystemRule = "first_only"
    alternate: bool = True
    final: str | None = "assistant"

    @model_validator(mode="after")
    def _consistent(self):
        if self.final is not None and self.final not in self.roles:
            raise ValueError(f"final: '{self.final}' is not one of the roles "
                             f"({', '.join(self.roles)})")
        if self.system == "required" and "system" not in self.roles:
            raise ValueError("system: 'required' needs 'system' among the roles")
        return self


@register_rule("expect_column_values_to_be_valid_conversations", ConversationArgs)
def _valid_conversations(frame, args: ConversationArgs, id_column=None) -> Outcome:
    """Each value is a conversation in the fine-tuning format: turns with an allowed role
    and non-empty content, the system prompt where allowed, alternating user/assistant
    turns, ending with the final role (OpenAI's format check)."""
    values = _values(frame, args.column)
    reasons = {p: conversation_problems(v, roles=args.roles, system=args.system,
                                        alternate=args.alternate, final=args.final)
               for p, v in values.items()}
    bad = pd.Series([bool(reasons[p]) for p in values.index], index=values.index, dtype=bool)
    return _map_outcome(frame, values, bad, args.mostly, id_column,
                        lambda p, v: {"reason": "; ".join(reasons[p])})


class TokenCountArgs(RuleArgs):
    column: str
    model: str = Field(min_length=1)
    min_value: int | None = Field(None, ge=0)
    max_value: int | None = Field(None, ge=0)
    mostly: float = Field(1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_value is None and self.max_value is None:
            raise ValueError("give min_value, max_value or both")
        if (self.min_value is not None and self.max_value is not None
                and self.min_value > self.max_value):
            raise ValueError(f"min_value {self.min_value} is above max_value {self.max_value}")
        return self


def _chat_tokenizer(spec: str):
    """The tokenizer of model ``spec`` and the template to use (None: its own)."""
    from ..core.project import find_project
    from ..models import prepare_model
    from ..models._hf import LOCK, hf

    with LOCK:  # transformers' lazy imports are not thread-safe (see workbench._hf)
        path = prepare_model(find_project(), spec)
        AutoTokenizer = hf("AutoTokenizer")
        try:
            tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
        except (OSError, ValueError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else \
                type(exc).__name__
            raise ConfigError(f"model '{spec}': could not load its tokenizer from {path}: "
                              f"{first}") from None
    return tok, (None if tok.chat_template else CHATML_TEMPLATE)


@register_rule("expect_column_conversation_token_counts_to_be_between", TokenCountArgs)
def _token_counts(frame, args: TokenCountArgs, id_column=None) -> Outcome:
    """Each conversation, rendered with the model's chat template (ChatML if it has
    none), has between min_value and max_value tokens of the model's tokenizer."""
    tok, template = _chat_tokenizer(args.model)
    values = _values(frame, args.column)
    texts: dict[int, str] = {}
    reasons: dict[int, str] = {}
    for p, v in values.items():
        try:
            turns = parse_messages(v, where="the value")
            if not turns:
                raise DataError("the value: no turns")
            texts[p] = tok.apply_chat_template(turns, tokenize=False, chat_template=template)
        except WorkbenchError as exc:
            reasons[p] = "not countable: " + str(exc).removeprefix("the value, ") \
                .removeprefix("the value: ")
        except Exception as exc:  # noqa: BLE001 - a template may raise anything on a row
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else \
                type(exc).__name__
            reasons[p] = f"the chat template failed: {first}"
    counted = list(texts)
    ids = tok([texts[p] for p in counted], add_special_tokens=False)["input_ids"] \
        if counted else []
    counts = {p: len(x) for p, x in zip(counted, ids)}

    def out_of_bounds(n: int) -> bool:
        return ((args.min_value is not None and n < args.min_value)
                or (args.max_value is not None and n > args.max_value))

    bad = pd.Series([p in reasons or out_of_bounds(counts[p]) for p in values.index],
                    index=values.index, dtype=bool)
    out = _map_outcome(frame, values, bad, args.mostly, id_column,
                       lambda p, v: {"reason": reasons[p]} if p in reasons
                       else {"tokens": counts[p]})
    n = list(counts.values())
    out.observed = {"model": args.model,
                    "chat_template": "the model's" if template is None else
                    "ChatML (the model has none)",
                    "min": min(n) if n else None, "max": max(n) if n else None,
                    "mean": round(sum(n) / len(n), 3) if n else None,
                    "uncountable": len(reasons)}
    return out
