"""The messages format: reading, the format check, turn text, conversions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import WorkbenchError
from workbench.data._conversations import (
    canonical_json,
    conversation_problems,
    is_conversation_column,
    parse_messages,
    render_turns,
    split_last_turn,
    to_messages,
    turn_contents,
    turns_text,
)

CHAT = [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my order?", "name": "bo"},
        {"role": "assistant", "content": "It ships today.", "weight": 1}]


def test_docstring_examples_run():
    import doctest

    import workbench.data._conversations

    assert doctest.testmod(workbench.data._conversations).failed == 0


def test_parse_accepts_the_shapes_conversations_arrive_in():
    import pyarrow as pa

    as_json = json.dumps(CHAT)
    # Parquet / datasets give numpy arrays of dicts with the union of keys as nulls
    as_numpy = np.array([{**t, **{k: None for k in ("name", "weight") if k not in t}}
                         for t in CHAT], dtype=object)
    as_arrow = pa.array([CHAT])[0]
    reordered = [{"content": t["content"], **{k: v for k, v in t.items() if k != "content"}}
                 for t in CHAT]
    for value in (CHAT, tuple(CHAT), as_json, as_numpy, as_arrow, reordered):
        out = parse_messages(value, where="row 0")
        assert out == CHAT
        assert [list(t) for t in out] == [list(t) for t in CHAT]  # role, content first
        assert all(type(t) is dict for t in out)
    assert parse_messages([{"role": "user", "content": "x", "n": np.int64(3)}])[0]["n"] == 3
    assert type(parse_messages([{"role": "user", "content": "x", "n": np.int64(3)}])[0]["n"]) \
        is int


BAD_VALUES = [
    ("hello", r"^row 12: expected a list of \{role, content\} turns, got text 'hello'$"),
    ('[{"role": "user", ', r"^row 12: not valid JSON \(Expecting property name enclosed in "
                           r"double quotes at character 18\)$"),
    ({"role": "user", "content": "hi"}, r"^row 12: expected a list of \{role, content\} "
                                        r"turns, got an object$"),
    (None, r"^row 12: expected a list of \{role, content\} turns, got a missing value$"),
    (3, r"^row 12: expected a list of \{role, content\} turns, got int$"),
    ([{"role": "user", "content": "a"}, "hi"],
     r"^row 12, turn 1: expected an object with 'role' and 'content', got text 'hi'$"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
      {"role": "user", "content": "c"}, {"role": "assistant"}],
     r"^row 12, turn 3: no 'content'; each turn needs a 'role' and a 'content'$"),
    ([{"content": "a"}], r"^row 12, turn 0: no 'role'"),
    ([{"role": "user", "content": None}], r"^row 12, turn 0: no 'content'"),
    ([{"role": 1, "content": "a"}], r"^row 12, turn 0: 'role' must be text, got int$"),
    ([{"role": "user", "content": [{"type": "text", "text": "a"}]}],
     r"^row 12, turn 0: 'content' must be text, got list$"),
]


@pytest.mark.parametrize("value,message", BAD_VALUES, ids=range(len(BAD_VALUES)))
def test_parse_names_row_and_turn(value, message):
    with pytest.raises(WorkbenchError, match=message):
        parse_messages(value, where="row 12")


def test_lenient_parse_keeps_incomplete_turns_but_not_non_text():
    assert parse_messages([{"role": "user"}, {"content": "x", "role": None}], strict=False) \
        == [{"role": "user"}, {"content": "x"}]
    with pytest.raises(WorkbenchError, match=r"row 1, turn 0: 'content' must be text, got int"):
        parse_messages([{"role": "user", "content": 5}], where="row 1", strict=False)


def _u(c):
    return {"role": "user", "content": c}


def _a(c):
    return {"role": "assistant", "content": c}


SYS = {"role": "system", "content": "Be brief."}

PROBLEMS = [
    ([SYS, _u("Hi"), _a("Hey"), _u("More?"), _a("Sure.")], {}, []),
    ([_u("Hi"), _a("Hey")], {}, []),
    ([], {}, ["no turns"]),
    ("hello", {}, ["expected a list of {role, content} turns, got text 'hello'"]),
    ([_u("Hi"), "x"], {}, ["turn 1: expected an object with 'role' and 'content', got text 'x'"]),
    ([_u("Hi"), {"role": "assistant"}], {}, ["turn 1: no 'content'"]),
    ([{"content": "Hi"}, _a("Hey")], {}, ["turn 0: no 'role'"]),
    ([_u("Hi"), _a("  ")], {}, ["turn 1: empty content"]),
    ([_u("Hi"), {"role": "Assistant", "content": "Hey"}], {},
     ["turn 1: role 'Assistant' is not one of system, user, assistant (did you mean "
      "'assistant'?)", "the last turn is 'Assistant', not 'assistant'"]),
    ([_u("Hi"), _a("Hey"), SYS], {},
     ["turn 2: a system turn after the first turn", "the last turn is 'system', not 'assistant'"]),
    ([SYS, SYS, _u("Hi"), _a("Hey")], {}, ["turn 1: a system turn after the first turn"]),
    ([_u("Hi"), _a("Hey"), SYS, _u("Again"), _a("Yes")], {"system": "any"}, []),
    ([SYS, _u("Hi"), _a("Hey")], {"system": "never"},
     ["turn 0: a system turn, and system turns are not allowed"]),
    ([_u("Hi"), _a("Hey")], {"system": "required"},
     ["turn 0: not a system turn (a system prompt is required)"]),
    ([_u("Hi"), _u("Hello?"), _a("Hey")], {}, ["turn 1: 'user' follows 'user' (roles must "
                                              "alternate)"]),
    ([_u("Hi"), _u("Hello?"), _a("Hey")], {"alternate": False}, []),
    ([SYS, _a("Hey"), _u("Hi"), _a("Yes")], {},
     ["turn 1: the first turn after the system prompt is 'assistant', not 'user'"]),
    ([_u("Hi"), _a("Hey"), _u("And?")], {}, ["the last turn is 'user', not 'assistant'"]),
    ([_u("Hi"), _a("Hey"), _u("And?")], {"final": None}, []),
    ([_u("Hi"), {"role": "tool", "content": "42"}, _a("It is 42.")],
     {"roles": ["user", "assistant", "tool"]}, []),
]


@pytest.mark.parametrize("messages,kwargs,expected", PROBLEMS, ids=range(len(PROBLEMS)))
def test_conversation_problems(messages, kwargs, expected):
    assert conversation_problems(messages, **kwargs) == expected


def test_turn_text_and_preview():
    assert turns_text(CHAT) == "Where is my order?\nIt ships today."
    assert turns_text(CHAT, turns=["system"]) == "Be brief."
    assert turns_text(CHAT, turns=None) == "Be brief.\nWhere is my order?\nIt ships today."
    assert turn_contents(CHAT, ["assistant", "user"]) == ["Where is my order?",
                                                          "It ships today."]
    # never raises: malformed values have no text
    assert turns_text("not a conversation") == ""
    assert turns_text([{"role": "user", "content": 5}, _a("ok")]) == "ok"
    assert render_turns(CHAT) == ("system: Be brief. | user: Where is my order? | "
                                  "assistant: It ships today.")


def test_canonical_json_equal_for_equal_conversations():
    numpy_form = np.array([{**t, "extra": None} for t in CHAT], dtype=object)
    shuffled_keys = [dict(reversed(list(t.items()))) for t in CHAT]
    assert canonical_json(CHAT) == canonical_json(numpy_form) == canonical_json(shuffled_keys) \
        == canonical_json(json.dumps(CHAT))
    assert canonical_json(CHAT) != canonical_json(CHAT[:2])
    assert json.loads(canonical_json(CHAT)) == CHAT


def test_is_conversation_column():
    assert is_conversation_column(pd.Series([CHAT, None, []], dtype=object))
    assert not is_conversation_column(pd.Series(["a", "b"]))
    assert not is_conversation_column(pd.Series([[1, 2], [3]], dtype=object))
    assert not is_conversation_column(pd.Series([CHAT, "text"], dtype=object))
    assert not is_conversation_column(pd.Series([[], []], dtype=object))


def test_to_messages_and_split_last_turn():
    frame = pd.DataFrame({"q": ["Hi?", None, "Pay?"], "a": ["Hello.", "x", "By card."]})
    conv = to_messages(frame, "q", "a")
    assert conv.tolist() == [[_u("Hi?"), _a("Hello.")], None, [_u("Pay?"), _a("By card.")]]
    with_sys = to_messages(frame, "q", "a", system="Be brief.")
    assert with_sys.iloc[0] == [SYS, _u("Hi?"), _a("Hello.")]
    assert with_sys.iloc[0][0] is not with_sys.iloc[2][0]  # no shared dicts between rows
    assert split_last_turn(CHAT) == (CHAT[:2], "It ships today.")


@pytest.mark.parametrize("args,message", [
    (("qq", "a"), r"^prompt_col: no column 'qq' \(did you mean 'q'\?\); the data has: q, a$"),
    (("q", "b"), r"^response_col: no column 'b'"),
])
def test_to_messages_bad_columns(args, message):
    with pytest.raises(WorkbenchError, match=message):
        to_messages(pd.DataFrame({"q": ["x"], "a": ["y"]}), *args)


@pytest.mark.parametrize("messages,message", [
    ([_u("Hi"), _a("Hey"), _u("And?")], r"^row 3, turn 2: the last turn is 'user', not "
                                        r"'assistant'; there is no reference answer to score$"),
    ([_a("Hey")], r"^row 3: only an assistant turn; nothing comes before it"),
    ([], r"^row 3: no turns$"),
    ([_u("Hi"), {"role": "assistant"}], r"^row 3, turn 1: no 'content'"),
])
def test_split_last_turn_bad(messages, message):
    with pytest.raises(WorkbenchError, match=message):
        split_last_turn(messages, where="row 3")
