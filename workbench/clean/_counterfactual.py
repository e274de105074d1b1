"""Counterfactual data augmentation: swap the words that name a group for their
counterparts ("she asked her mother" -> "he asked his father").

A pure engine over text and pandas frames; the ``counterfactual_augment`` cleaning
step calls :func:`counterfactual_frame`. Word lists come from
:mod:`workbench.core.wordlists` (``groups: gender`` or a pairs file).

How a swap is made
------------------
- Whole words only: a word is a maximal run of letters, digits and underscores, so
  "Sheila", "theme", "Herbert" and "his_id" are left alone; "he's" swaps its "he".
- Case is kept: she/She/SHE become he/He/HE; a word written exactly as listed
  (``Mrs``) takes its counterpart exactly as listed (``Mr``); other mixed case
  ("sHe") comes out lowercase.
- ``her`` has two counterparts. With ``role_pronouns`` on (the built-in ``gender``
  list) a small rule decides its role from the next one or two tokens: a noun phrase
  follows (``her book``, ``her own``, ``her very first car``) -> possessive -> ``his``;
  otherwise (end of text or line, punctuation, a determiner, pronoun, preposition,
  conjunction, auxiliary, common bare verb, adverb, or a predicative adjective such
  as "happy" at the end of a clause) -> object -> ``him``. The same rule turns
  ``his`` into ``her`` before a noun phrase and into ``hers`` standing alone
  ("the book is his"). ``him`` -> ``her`` and ``hers`` -> ``his`` always.

Swapping twice, and where it breaks
-----------------------------------
Swapping twice gives the text back when every listed word is in lower, Title or
UPPER case (or exactly as listed), because pairs are one-to-one and the role rule
sees the same neighbours both times (the neighbours' own swaps are pairs of the same
kind: pronoun for pronoun, noun for noun). The known exceptions (a property test pins
that these are the only ones over random token sequences) come from ``him``/``hers``
standing where the rule expects a noun phrase after ``her``/``his``, and from case:

- ``him`` before a bare noun phrase: "gave him flowers", "made him dinner", "call
  him Bob" -> "gave her flowers", whose ``her`` reads as possessive -> "gave his
  flowers". A word-level rule cannot tell "gave her flowers" (object) from "fed her
  cat" (possessive); a parser could.
- ``him`` before a predicative adjective the rule does not know, or one not at the
  end of the clause: "made him furious" -> "made her furious" -> "made his furious".
- ``hers`` before a word the rule reads as a noun: "his and hers towels" -> "hers and
  his towels" -> "his and her towels".
- mixed case such as "sHe" (comes back as "she").
The rule reads only the words after ``her``/``his``, never the verb before them, so
the first swap is also wrong, not just the way back, wherever it misreads ``her``: an
object before a bare noun ("bought her flowers" -> "bought his flowers"), an object
before a verb it does not list ("let her use his Wi-Fi" -> "let his use her Wi-Fi"),
or a possessive before a word it lists as a verb or adverb ("her go" as a turn).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..core.errors import ConfigError, DataError, WorkbenchError, did_you_mean
from ..core.wordlists import SwapList, builtin_lists, load_swaps
from ..data import is_conversation_column, parse_messages

Mode = Literal["add", "replace"]
MODES = ("add", "replace")
MARKER = "counterfactual_of"
EXAMPLES = 5

_TOKEN = re.compile(r"\w+|[^\w\s]")

# ---------------------------------------------------------------- the role of her / his
# Words after which `her`/`his` is not followed by a noun phrase of its own. Every
# swappable word of a list must sit in the same set as its counterpart (a test checks
# the built-in list), otherwise a swapped neighbour would change the decision.
_DETERMINERS = set("""a an the this that these those some any no every each all both
another either neither my your our their its his her whose what which""".split())
_PRONOUNS = set("""i me you he she it we they him them us myself yourself itself
ourselves yourselves themselves herself himself hers mine yours ours theirs something
anything nothing everything someone anyone everyone nobody everybody somebody
anybody""".split())
_PREPOSITIONS = set("""about above across after against along among amongst around as at
before behind below beneath beside besides between beyond by despite down during except
for from in inside into like near of off on onto out outside over past per since through
throughout till to toward towards under underneath until unlike up upon via with within
without away back apart aside round""".split())
_CONJUNCTIONS = set("""and or but nor yet so because although though while whereas if
unless whether when whenever where wherever why how than then once who whom""".split())
_AUXILIARIES = set("""is was are were be been being am has have had does do did will
would shall should can could may might must isn wasn aren weren hasn haven hadn doesn
don didn won wouldn shouldn can cannot couldn mightn mustn seems seemed appears
appeared remains remained""".split())
# base verb forms that are rarely nouns: "let her know", "help her decide"
_BARE_VERBS = set("""know go feel think get come leave stay decide explain understand
speak sleep cry laugh sit stand wait try see hear become begin continue choose find
learn believe forget remember realise realize recover""".split())
_ADVERBS = set("""again too also now then here there today tomorrow yesterday tonight
soon later already still ever never always often sometimes anyway instead well enough
either please alone together everywhere somewhere anywhere nowhere""".split())
# "her very first car" (possessive) vs "thank her very much" (object): look one further
_INTENSIFIERS = set("very so really quite rather pretty much more most less least".split())
# predicative adjectives at the end of a clause: "made her happy."
_PREDICATIVE = set("""happy sad angry upset safe alone asleep awake ready sure calm busy
free sick ill nervous comfortable uncomfortable welcome aware responsible proud crazy
mad glad sorry late wrong right alive worried confused annoyed tired""".split())
# -ly words that are nouns or adjectives, not adverbs: "her family", "her lovely dress"
_LY_WORDS = set("""family only early daily weekly monthly yearly lovely friendly elderly
ugly curly silly lonely holy belly jelly bully lily ally rally reply supply assembly
italy sally emily kelly molly holly polly july likely lively costly deadly orderly
chilly jolly woolly wobbly""".split())
_FUNCTION = _DETERMINERS | _PRONOUNS | _PREPOSITIONS | _CONJUNCTIONS | _AUXILIARIES | _ADVERBS


def _is_adverb(word: str) -> bool:
    return word in _ADVERBS or (len(word) > 4 and word.endswith("ly") and word not in _LY_WORDS)


def _noun_phrase_follows(n1: str | None, n2: str | None) -> bool:
    """Whether the tokens after ``her``/``his`` start a noun phrase it determines.

    ``None`` is a boundary: end of text, a line break or punctuation.

    >>> _noun_phrase_follows("book", None), _noun_phrase_follows("to", "the")
    (True, False)
    >>> _noun_phrase_follows("very", "first"), _noun_phrase_follows("very", "much")
    (True, False)
    """
    if n1 is None:
        return False
    if n1 == "own":
        return True
    if n1 in _INTENSIFIERS:
        return (n2 is not None and n2 not in _FUNCTION and n2 not in _INTENSIFIERS
                and not _is_adverb(n2))
    if n1 in _FUNCTION or n1 in _BARE_VERBS or _is_adverb(n1):
        return False
    if n1 in _PREDICATIVE and n2 is None:
        return False
    return True


def _next_words(tokens: list[re.Match], i: int, text: str) -> tuple[str | None, str | None]:
    """The next two words after token ``i`` (lowercase), ``None`` from a boundary on.

    A boundary is the end of the text, a line break or punctuation; a hyphenated
    compound written without spaces ("well-being") counts as one word.
    """
    out: list[str | None] = []
    j, prev_end = i + 1, tokens[i].end()
    while len(out) < 2:
        if (out and out[-1] is None) or j >= len(tokens):
            out.append(None)
            continue
        tok = tokens[j]
        if "\n" in text[prev_end:tok.start()] or not _is_word(tok.group()):
            out.append(None)
            continue
        word, end = tok.group(), tok.end()
        j += 1
        while (j + 1 < len(tokens) and tokens[j].group() == "-" and tokens[j].start() == end
               and tokens[j + 1].start() == tokens[j].end() and _is_word(tokens[j + 1].group())):
            word, end = f"{word}-{tokens[j + 1].group()}", tokens[j + 1].end()
            j += 2
        out.append(word.lower())
        prev_end = end
    return out[0], out[1]


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


def _role_swap(low: str, n1: str | None, n2: str | None) -> str:
    if low == "him":
        return "her"
    if low == "hers":
        return "his"
    np_follows = _noun_phrase_follows(n1, n2)
    if low == "her":
        return "his" if np_follows else "him"
    return "her" if np_follows else "hers"  # his


def _match_case(original: str, listed: str, counterpart: str) -> str:
    if original == listed:
        return counterpart
    if original.islower():
        return counterpart.lower()
    if original.isupper() and len(original) > 1:
        return counterpart.upper()
    if original[0].isupper() and original[1:].islower():
        return counterpart if not counterpart.islower() else counterpart.capitalize()
    return counterpart.lower()


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Swap:
    """One swapped word: where it was (``start``/``end`` in the input), where its
    replacement is in the output (``new_start``), and both forms."""

    start: int
    end: int
    old: str
    new: str
    new_start: int


@dataclass(frozen=True)
class SwapResult:
    """The swapped text and every swap made, in order."""

    text: str
    swaps: tuple[Swap, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.swaps)


def _swap_list(swaps: SwapList | str | os.PathLike) -> SwapList:
    return swaps if isinstance(swaps, SwapList) else load_swaps(swaps)


def swap_text(text: str, swaps: SwapList | str | os.PathLike) -> SwapResult:
    """Swap every listed word in ``text`` for its counterpart (both ways).

    Parameters
    ----------
    text : the text.
    swaps : a loaded :class:`~workbench.core.wordlists.SwapList`, a built-in list name
        (``"gender"``) or the path of a pairs file.

    See the module docstring for the rules (whole words, case, the role of
    ``her``/``his``) and for the constructions that do not survive two swaps.

    >>> sw = load_swaps("gender")
    >>> swap_text("She gave him her book.", sw).text
    'He gave her his book.'
    >>> swap_text("He gave her his book.", sw).text
    'She gave him her book.'
    >>> swap_text("Sheila's theme, by Herbert", sw).changed
    False
    """
    sw = _swap_list(swaps)
    table = sw.table
    tokens = list(_TOKEN.finditer(text))
    parts: list[str] = []
    made: list[Swap] = []
    last = 0
    shift = 0
    for i, m in enumerate(tokens):
        word = m.group()
        low = word.lower()
        if low in table:
            listed, counterpart = table[low]
        elif sw.role_pronouns and low in ("her", "hers", "his", "him"):
            listed, counterpart = low, _role_swap(low, *_next_words(tokens, i, text))
        else:
            continue
        new = _match_case(word, listed, counterpart)
        parts.append(text[last:m.start()])
        parts.append(new)
        made.append(Swap(m.start(), m.end(), word, new, m.start() + shift))
        shift += len(new) - len(word)
        last = m.end()
    if not made:
        return SwapResult(text)
    parts.append(text[last:])
    return SwapResult("".join(parts), tuple(made))


# ------------------------------------------------------------------------------- frames
@dataclass(frozen=True)
class CounterfactualSummary:
    """What :func:`counterfactual_frame` did.

    ``rows_changed`` counts source rows with at least one swap (in ``add`` mode, the
    twins appended); ``by_word`` counts swaps as ``"old -> new"`` (lowercase), so the
    two roles of ``her`` show apart; ``examples`` hold a few changed cells.
    """

    mode: str
    columns: tuple[str, ...]
    word_list: str
    rows_in: int
    rows_out: int
    rows_changed: int
    cells_changed: int
    words_swapped: int
    by_word: dict[str, int] = field(default_factory=dict)
    examples: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "columns": list(self.columns), "word_list": self.word_list,
                "rows_in": self.rows_in, "rows_out": self.rows_out,
                "rows_changed": self.rows_changed, "cells_changed": self.cells_changed,
                "words_swapped": self.words_swapped, "by_word": dict(self.by_word),
                "examples": [dict(e) for e in self.examples]}


def _no_column(param: str, col: Hashable, columns: list[str]) -> ConfigError:
    return ConfigError(f"{param}: no column '{col}'{did_you_mean(str(col), columns)}; "
                       f"the data has: {', '.join(columns)}", param=param)


def _check_args(frame: pd.DataFrame, columns, mode, id_column, marker) -> list[str]:
    if mode not in MODES:
        raise ConfigError(f"mode: must be 'add' or 'replace'; got {mode!r}", param="mode")
    cols = [columns] if isinstance(columns, str) else list(columns or [])
    have = [str(c) for c in frame.columns]
    if not cols:
        raise ConfigError("columns: give at least one text column to swap; the data has: "
                          + ", ".join(have), param="columns")
    for c in cols:
        if c not in frame.columns:
            raise _no_column("columns", c, have)
    if id_column is not None and id_column not in frame.columns:
        raise _no_column("id_column", id_column, have)
    if mode == "add":
        ids = frame[id_column] if id_column is not None else frame.index.to_series()
        dup = ids[ids.duplicated()]
        if len(dup):
            what = f"column '{id_column}'" if id_column is not None else "the index"
            raise DataError(f"id_column: {what} repeats '{dup.iloc[0]}'; a twin must "
                            "name exactly one source row (give a unique id_column)",
                            param="id_column")
        if marker in frame.columns:
            raise DataError(f"marker: the data already has a '{marker}' column (was it "
                            "augmented already?); augment the un-augmented parent "
                            "version", param="marker")
    return list(dict.fromkeys(cols))


def _text_dtype(col: pd.Series):
    """The column's dtype for swapped values; categories would turn new words into NaN."""
    if is_conversation_column(col):
        return object
    return None if isinstance(col.dtype, pd.CategoricalDtype) else col.dtype


def _swap_turns(value: Any, swap, chosen: set[str] | None):
    """Swap the content of the chosen turns of one conversation.

    Returns the new conversation (the value itself when nothing changed, or when it is
    not a readable conversation: the format rule reports those) and
    ``[(turn, before, SwapResult), ...]`` for the turns that changed.
    """
    if not hasattr(value, "__len__") or isinstance(value, (str, bytes)):
        return value, []
    try:
        turns = parse_messages(value, strict=False)
    except WorkbenchError:
        return value, []
    made = []
    for i, t in enumerate(turns):
        content = t.get("content")
        if isinstance(content, str) and (chosen is None or t.get("role") in chosen):
            res = swap(content)
            if res.changed:
                t["content"] = res.text
                made.append((i, content, res))
    return (turns, made) if made else (value, [])


def _twin_ids(ids: pd.Series, sources: list[Any]) -> list[Any]:
    """New, unused ids for the twins: the next integers, or ``<id>-cf`` for text."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        start = int(ids.max()) + 1 if len(ids) else 0
        return list(range(start, start + len(sources)))
    used = {str(v) for v in ids}
    out = []
    for s in sources:
        new, k = f"{s}-cf", 2
        while new in used:
            new, k = f"{s}-cf{k}", k + 1
        used.add(new)
        out.append(new)
    return out


def counterfactual_frame(frame: pd.DataFrame, *, columns: str | Sequence[str],
                         swaps: SwapList | str | os.PathLike, mode: Mode = "add",
                         id_column: str | None = None, marker: str = MARKER,
                         keep_ids: bool = False, examples: int = EXAMPLES,
                         turns: Sequence[str] | None = None,
                         ) -> tuple[pd.DataFrame, CounterfactualSummary]:
    """Swap group words in ``columns`` of every row; the input frame is not modified.

    Parameters
    ----------
    frame : the data.
    columns : the text column(s) to swap (other columns are copied as they are).
    swaps : a SwapList, a built-in list name or the path of a pairs file.
    mode : ``"replace"`` swaps every row in place (same rows, same index);
        ``"add"`` keeps every row and appends, after them, one twin per row the swap
        changes, with ``marker`` holding the source row's id (its ``id_column`` value,
        else its index label; empty for source rows). The result has a fresh index.
    id_column : the column that names rows. In ``add`` mode it must be unique; twins
        get new unused ids (the next integers, or ``<id>-cf``) unless ``keep_ids``.
    marker : the name of the twin-marker column (``add`` mode).
    keep_ids : give twins their source row's id instead of a new one.
    examples : how many changed cells the summary shows.
    turns : in a column of conversations, the roles whose content is swapped (default:
        every turn). Conversations are swapped turn by turn; roles and extra keys stay.

    Keep a row and its twin in the same split (group rows by ``marker``, falling back to
    the row id), or the twin leaks the source row into evaluation.

    >>> df = pd.DataFrame({"q": ["Is she here?", "Where is it?"], "topic": ["a", "b"]})
    >>> out, summary = counterfactual_frame(df, columns="q", swaps="gender", mode="add")
    >>> out["q"].tolist(), out["counterfactual_of"].tolist()
    (['Is she here?', 'Where is it?', 'Is he here?'], [<NA>, <NA>, 0])
    >>> summary.rows_changed, summary.by_word
    (1, {'she -> he': 1})
    """
    cols = _check_args(frame, columns, mode, id_column, marker)
    sw = _swap_list(swaps)
    memo: dict[str, SwapResult] = {}
    swapped: dict[str, list[Any]] = {}
    counts: Counter[str] = Counter()
    changed_rows = [False] * len(frame)
    cells = 0
    shown: list[dict[str, Any]] = []
    labels = (frame[id_column] if id_column is not None else frame.index.to_series()).tolist()
    def swap(text: str) -> SwapResult:
        res = memo.get(text)
        if res is None:
            res = memo[text] = swap_text(text, sw)
        return res

    conv = {c: is_conversation_column(frame[c]) for c in cols}
    if turns is not None and not any(conv.values()):
        raise DataError(f"turns: column '{cols[0]}' holds text, not conversations; "
                        "'turns' chooses the roles swapped in a column of messages",
                        param="turns")
    chosen = None if turns is None else set(turns)
    for c in cols:
        new_vals = []
        for pos, v in enumerate(frame[c].tolist()):
            if conv[c]:
                new, made = _swap_turns(v, swap, chosen)
            elif isinstance(v, str):
                res = swap(v)
                new, made = res.text, ([(None, v, res)] if res.changed else [])
            else:
                new, made = v, []
            new_vals.append(new)
            if made:
                cells += 1
                changed_rows[pos] = True
            for turn, before, res in made:
                counts.update(f"{s.old.lower()} -> {s.new.lower()}" for s in res.swaps)
                if len(shown) < examples:
                    shown.append({"row": labels[pos], "column": c,
                                  **({} if turn is None else {"turn": turn}),
                                  "before": before, "after": res.text})
        swapped[c] = new_vals
    positions = [i for i, ch in enumerate(changed_rows) if ch]
    if mode == "replace":
        out = frame.copy()
        for c in cols:
            out[c] = pd.Series(swapped[c], index=frame.index, dtype=_text_dtype(frame[c]))
    else:
        twins = frame.iloc[positions].copy()
        for c in cols:
            twins[c] = pd.Series([swapped[c][p] for p in positions], index=twins.index,
                                 dtype=_text_dtype(frame[c]))
        sources = [labels[p] for p in positions]
        if id_column is not None and not keep_ids:
            twins[id_column] = pd.Series(_twin_ids(frame[id_column], sources),
                                         index=twins.index)
        base = frame.copy()
        ints = all(isinstance(s, int) and not isinstance(s, bool) for s in sources)
        dtype = "Int64" if ints else "object"
        base[marker] = pd.Series([None] * len(base), index=base.index, dtype=dtype)
        twins[marker] = pd.Series(sources, index=twins.index, dtype=dtype)
        out = pd.concat([base, twins], ignore_index=True)
    summary = CounterfactualSummary(
        mode=mode, columns=tuple(cols), word_list=sw.label, rows_in=len(frame),
        rows_out=len(out), rows_changed=len(positions), cells_changed=cells,
        words_swapped=sum(counts.values()), by_word=dict(counts.most_common()),
        examples=tuple(shown))
    return out, summary


__all__ = ["CounterfactualSummary", "MARKER", "MODES", "Swap", "SwapList", "SwapResult",
           "builtin_lists", "counterfactual_frame", "load_swaps", "swap_text"]
