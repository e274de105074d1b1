"""Conversations as data: the ``messages`` format chat models are fine-tuned on.

A conversation is a list of turns, each an object with a ``role`` and a ``content``
(OpenAI's fine-tuning format and Hugging Face's chat templates)::

    [{"role": "system", "content": "Be brief."},
     {"role": "user", "content": "Where is my order?"},
     {"role": "assistant", "content": "It ships today."}]

Extra keys on a turn (``name``, ``weight``, ...) are kept. This module is the one place
that knows the format: reading it from the shapes it arrives in (Python lists, JSON text,
the numpy arrays and pyarrow structs that Parquet and ``datasets`` give back), the format
check, the text of chosen roles, and a canonical form for hashing and comparison.

Nulls inside a turn are dropped: Parquet stores the union of the keys of all turns, so a
key one turn lacks comes back as null there, and a null cannot be told from a missing key.
Rows and turns are counted from 0, as check reports count rows and as ``messages[3]``
indexes a list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from ..core.errors import ConfigError, DataError, WorkbenchError, did_you_mean

ROLES = ("system", "user", "assistant")
SystemRule = Literal["first_only", "required", "any", "never"]
SYSTEM_RULES: tuple[str, ...] = ("first_only", "required", "any", "never")

#: The ChatML template (Hugging Face's default for models without one), for a tokenizer
#: that has no chat template of its own.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


# ----------------------------------------------------------------------------- reading
def _kind(value: Any) -> str:
    if isinstance(value, str):
        short = value if len(value) <= 30 else value[:27] + "..."
        return f"text {short!r}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


_SCALARS = frozenset({str, int, float, bool})


def _is_listlike(value: Any) -> bool:
    t = type(value)
    return t is list or t is tuple or isinstance(value, (list, tuple)) or t.__name__ == "ndarray"


def _plain(value: Any) -> Any:
    """Plain JSON-like Python: numpy arrays and scalars unwrapped, null keys dropped."""
    t = type(value)
    if t in _SCALARS:  # the common case first: this runs for every value of every turn
        return value
    if t is dict or isinstance(value, Mapping):
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()
                if v is not None}
    if _is_listlike(value):
        return [_plain(v) for v in value]
    if hasattr(value, "as_py"):  # a pyarrow scalar
        return _plain(value.as_py())
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
        return value.item()
    return value


def parse_messages(value: Any, *, where: str = "value", strict: bool = True) -> list[dict]:
    """Read one conversation into a list of plain ``{role, content, ...}`` dicts.

    Parameters
    ----------
    value : a list (or tuple, numpy array, pyarrow list) of turn objects, or JSON text
        of one.
    where : how errors name the value, for example ``"row 12"``.
    strict : require every turn to have a text ``role`` and ``content``. With
        ``strict=False`` a turn may lack them (the format check reports it); any
        ``role`` or ``content`` present must still be text.

    Returns
    -------
    list of dict
        Each turn with ``role`` and ``content`` first, then its extra keys in their
        order; null values are dropped.

    Raises
    ------
    DataError
        One line naming ``where`` and the turn: ``row 12, turn 3: no 'content'``.

    Examples
    --------
    >>> parse_messages('[{"content": "Hi", "role": "user", "name": "bo"}]')
    [{'role': 'user', 'content': 'Hi', 'name': 'bo'}]
    >>> parse_messages([{"role": "user"}], where="row 4")
    Traceback (most recent call last):
    ...
    workbench.core.errors.DataError: row 4, turn 0: no 'content'; each turn needs a 'role' and a 'content'
    """
    if hasattr(value, "as_py"):
        value = value.as_py()
    if isinstance(value, str):
        if not value.lstrip().startswith("["):
            raise DataError(f"{where}: expected a list of {{role, content}} turns, got "
                            f"{_kind(value)}")
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg} at character "
                            f"{exc.pos})") from None
    if not _is_listlike(value):
        got = "a missing value" if value is None else _kind(value)
        raise DataError(f"{where}: expected a list of {{role, content}} turns, got {got}")
    turns: list[dict] = []
    for i, turn in enumerate(value):
        if type(turn) is not dict:
            if hasattr(turn, "as_py"):
                turn = turn.as_py()
            if not isinstance(turn, Mapping):
                raise DataError(f"{where}, turn {i}: expected an object with 'role' and "
                                f"'content', got {_kind(turn)}")
        turn = _plain(turn)
        for key in ("role", "content"):
            if key not in turn:
                if strict:
                    raise DataError(f"{where}, turn {i}: no '{key}'; each turn needs a "
                                    "'role' and a 'content'")
            elif type(turn[key]) is not str:
                raise DataError(f"{where}, turn {i}: '{key}' must be text, got "
                                f"{_kind(turn[key])}")
        keys = list(turn)
        if keys[:2] != ["role", "content"]:  # role and content first, then the rest
            head = {k: turn[k] for k in ("role", "content") if k in turn}
            turn = {**head, **{k: v for k, v in turn.items() if k not in head}}
        turns.append(turn)
    return turns


def looks_like_conversation(value: Any) -> bool:
    """A list-like value whose items are all objects, one of them with a role or content.

    >>> looks_like_conversation([{"role": "user", "content": "Hi"}])
    True
    >>> looks_like_conversation(["Hi"]), looks_like_conversation("Hi")
    (False, False)
    """
    if not _is_listlike(value) or len(value) == 0:
        return False
    seen = False
    for turn in value:
        if not isinstance(turn, Mapping):
            return False
        seen = seen or "role" in turn or "content" in turn
    return seen


def is_conversation_column(series: pd.Series) -> bool:
    """Every non-missing value of ``series`` is a list of turn objects (and some turn has
    a role or content): a column of conversations, as the importers store them."""
    if series.dtype != object:
        return False
    seen = False
    for v in series:
        if v is None or (isinstance(v, float) and v != v):
            continue
        if not _is_listlike(v):
            return False
        if len(v) and not all(isinstance(t, Mapping) for t in v):
            return False
        seen = seen or looks_like_conversation(v)
    return seen


def canonical_json(messages: Any) -> str:
    """The canonical JSON of a conversation: sorted keys, no spaces, nulls dropped.

    Equal conversations give equal text whatever shape they arrived in, so it serves
    for hashing and for comparing conversations.

    >>> canonical_json([{"content": "Hi", "role": "user", "name": None}])
    '[{"content":"Hi","role":"user"}]'
    """
    return json.dumps(parse_messages(messages, strict=False), sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- the format check
def conversation_problems(messages: Any, *, roles: Sequence[str] = ROLES,
                          system: SystemRule = "first_only", alternate: bool = True,
                          final: str | None = "assistant") -> list[str]:
    """What keeps ``messages`` from being a valid fine-tuning conversation; ``[]`` if none.

    The checks of OpenAI's fine-tuning data format: every turn has a ``role`` from
    ``roles`` and non-empty text ``content``; a system turn only where ``system``
    allows it (``first_only``: at most one, as the first turn; ``required``: the first
    turn is one; ``any``; ``never``); with ``alternate``, the turns after the system
    prompt start with ``user`` and no role follows itself; the last turn has the role
    ``final`` (``None``: any). Never raises: a value that is not a conversation at all
    gives one reason.

    Examples
    --------
    >>> conversation_problems([{"role": "user", "content": "Hi"},
    ...                        {"role": "assistant", "content": "Hello"}])
    []
    >>> for reason in conversation_problems([{"role": "user", "content": " "},
    ...                                      {"role": "User", "content": "x"}]):
    ...     print(reason)
    turn 0: empty content
    turn 1: role 'User' is not one of system, user, assistant (did you mean 'user'?)
    the last turn is 'User', not 'assistant'
    """
    try:
        turns = parse_messages(messages, where="the value", strict=False)
    except WorkbenchError as exc:
        return [str(exc).removeprefix("the value, ").removeprefix("the value: ")]
    if not turns:
        return ["no turns"]
    allowed = list(roles)
    problems: list[str] = []
    for i, t in enumerate(turns):
        role = t.get("role")
        if role is None:
            problems.append(f"turn {i}: no 'role'")
        elif role not in allowed:
            problems.append(f"turn {i}: role {role!r} is not one of {', '.join(allowed)}"
                            + did_you_mean(role, allowed))
        content = t.get("content")
        if content is None:
            problems.append(f"turn {i}: no 'content'")
        elif not content.strip():
            problems.append(f"turn {i}: empty content")
    systems = [i for i, t in enumerate(turns) if t.get("role") == "system"]
    if system == "never":
        problems += [f"turn {i}: a system turn, and system turns are not allowed"
                     for i in systems]
    elif system in ("first_only", "required"):
        problems += [f"turn {i}: a system turn after the first turn" for i in systems if i > 0]
        if system == "required" and not systems[:1] == [0]:
            problems.append("turn 0: not a system turn (a system prompt is required)")
    if alternate:  # a missing or unknown role is reported above, not again here
        rest = [(i, t.get("role")) for i, t in enumerate(turns) if t.get("role") != "system"]
        if rest and rest[0][1] in allowed and rest[0][1] != "user":
            problems.append(f"turn {rest[0][0]}: the first turn after the system prompt is "
                            f"{rest[0][1]!r}, not 'user'")
        for (_, prev), (i, role) in zip(rest, rest[1:]):
            if role in allowed and role == prev:
                problems.append(f"turn {i}: {role!r} follows {prev!r} (roles must alternate)")
    last = turns[-1].get("role")
    if final is not None and last != final:
        problems.append(f"the last turn is {last!r}, not {final!r}" if last is not None
                        else f"the last turn has no role (it must be {final!r})")
    return problems


# ----------------------------------------------------------------------------- helpers
def turns_text(messages: Any, turns: Sequence[str] | None = ("user", "assistant")) -> str:
    """The content of the turns whose role is in ``turns`` (``None``: every turn), one
    per line. Turns without text content are skipped; never raises (a value that is not
    a conversation has no text).

    >>> turns_text([{"role": "system", "content": "Be brief."},
    ...             {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}])
    'Hi\\nHey'
    """
    return "\n".join(turn_contents(messages, turns))


def turn_contents(messages: Any, turns: Sequence[str] | None = ("user", "assistant")
                  ) -> list[str]:
    """The content of each turn whose role is in ``turns`` (``None``: every turn), as
    :func:`turns_text` reads them, one item per turn."""
    chosen = None if turns is None else set(turns)
    return [t["content"] for t in _lenient_turns(messages)
            if (chosen is None or t.get("role") in chosen) and isinstance(t.get("content"), str)]


def render_turns(messages: Any) -> str:
    """A one-line preview for tables: ``system: Be brief. | user: Hi``."""
    return " | ".join(f"{t.get('role', '?')}: {t.get('content', '')}"
                      for t in _lenient_turns(messages))


def _lenient_turns(value: Any) -> list[dict]:
    """The turn objects of ``value`` that can be read at all, never raising."""
    try:
        return parse_messages(value, strict=False)
    except WorkbenchError:
        if _is_listlike(value):
            return [_plain(t) for t in value if isinstance(t, Mapping)]
        return []


def to_messages(frame: pd.DataFrame, prompt_col: str, response_col: str, *,
                system: str | None = None) -> pd.Series:
    """Prompt/response rows as conversations: ``[system?, user, assistant]`` per row.

    Rows where the prompt or the response is missing give a missing conversation.

    >>> df = pd.DataFrame({"q": ["Hi?"], "a": ["Hello."]})
    >>> to_messages(df, "q", "a", system="Be kind.").iloc[0]
    [{'role': 'system', 'content': 'Be kind.'}, {'role': 'user', 'content': 'Hi?'}, {'role': 'assistant', 'content': 'Hello.'}]
    """
    cols = [str(c) for c in frame.columns]
    for param, col in (("prompt_col", prompt_col), ("response_col", response_col)):
        if col not in cols:
            raise ConfigError(f"{param}: no column '{col}'{did_you_mean(col, cols)}; "
                              f"the data has: {', '.join(cols)}", param=param)
    if system is not None and not isinstance(system, str):
        raise ConfigError(f"system: expected text, got {type(system).__name__}", param="system")
    head = [{"role": "system", "content": system}] if system is not None else []
    out = []
    for p, r in zip(frame[prompt_col], frame[response_col]):
        if pd.isna(p) or pd.isna(r):
            out.append(None)
        else:
            out.append([*[dict(h) for h in head], {"role": "user", "content": str(p)},
                        {"role": "assistant", "content": str(r)}])
    return pd.Series(out, index=frame.index, dtype=object, name="messages")


def split_last_turn(messages: Any, *, where: str = "value") -> tuple[list[dict], str]:
    """``(history, reference)``: the turns before the last one, and the last (assistant)
    turn's content, for generating that turn and scoring it.

    >>> split_last_turn([{"role": "user", "content": "Hi"},
    ...                  {"role": "assistant", "content": "Hey"}])
    ([{'role': 'user', 'content': 'Hi'}], 'Hey')
    """
    turns = parse_messages(messages, where=where)
    if not turns:
        raise DataError(f"{where}: no turns")
    last = turns[-1]
    if last["role"] != "assistant":
        raise DataError(f"{where}, turn {len(turns) - 1}: the last turn is "
                        f"{last['role']!r}, not 'assistant'; there is no reference "
                        "answer to score")
    if len(turns) == 1:
        raise DataError(f"{where}: only an assistant turn; nothing comes before it to "
                        "generate it from")
    return turns[:-1], last["content"]


__all__ = ["CHATML_TEMPLATE", "ROLES", "SYSTEM_RULES", "canonical_json",
           "conversation_problems", "is_conversation_column", "looks_like_conversation",
           "parse_messages", "render_turns", "split_last_turn", "to_messages", "turn_contents", "turns_text"]
