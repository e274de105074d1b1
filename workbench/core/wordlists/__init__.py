"""Two-sided word lists: pairs of words that name one group and its counterpart.

They drive counterfactual swaps (``workbench.clean._counterfactual``) and group-mention rules
(``workbench.checks``), so both read the same words. Built-in lists ship as package data
(``gender``); a path to a YAML file of your own is accepted wherever a list is named::

    groups: [female, male]   # optional: the names of the two sides, in pair order
    description: ...         # optional
    source: ...              # optional: where the words come from
    version: 1               # optional: bump it when the words change
    role_pronouns: false     # optional: also swap her/his/him/hers by role (side 1 = she)
    pairs:                   # required: [side-1 word, side-2 word]; a word once per file
      - [woman, man]
      - [women, men]
    names:                   # optional: given names, swapped only when names are asked for
      - [Mary, John]

Words are single words (letters only); matching ignores case. A word may appear only
once in the file (on one side, in one pair), so that swapping twice gives the text back.
This module is light (stdlib, PyYAML, pydantic) and sits below every stage.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import ConfigSource, read_yaml, validation_message
from ..digest import sha256_text
from ..errors import ConfigError, NotFoundError, did_you_mean, unknown_name

#: her/his/him/hers: swapped by their role in the sentence when ``role_pronouns`` is on.
ROLE_PRONOUNS = {"her": 0, "hers": 0, "his": 1, "him": 1}
_WORD = re.compile(r"^[^\W\d_]+$")
_FIELDS = ("name", "description", "source", "version", "groups", "role_pronouns", "pairs",
           "names")


class _PairsFile(BaseModel):
    """The schema of a pairs file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    description: str = ""
    source: str = ""
    version: int | str = 1
    groups: tuple[str, str] = ("side_1", "side_2")
    role_pronouns: bool = False
    pairs: list[tuple[str, str]] = Field(min_length=1)
    names: list[tuple[str, str]] = []

    @field_validator("groups")
    @classmethod
    def _distinct(cls, v: tuple[str, str]) -> tuple[str, str]:
        if v[0] == v[1] or not v[0] or not v[1]:
            raise ValueError(f"give two different, non-empty group names; got {list(v)}")
        return v


@dataclass(frozen=True)
class SwapList:
    """A loaded, validated two-sided word list.

    ``pairs`` holds the words to swap (the names too when they were asked for), each
    as written in the file; lookups ignore case.
    """

    name: str
    groups: tuple[str, str]
    pairs: tuple[tuple[str, str], ...]
    role_pronouns: bool = False
    names: bool = False
    source: str = ""
    description: str = ""
    version: str = "1"
    digest: str = ""

    @cached_property
    def table(self) -> dict[str, tuple[str, str]]:
        """``lowercase word -> (word as listed, counterpart as listed)``, both ways."""
        out: dict[str, tuple[str, str]] = {}
        for a, b in self.pairs:
            out[a.lower()] = (a, b)
            out[b.lower()] = (b, a)
        return out

    def terms(self) -> dict[str, tuple[str, ...]]:
        """Each group's words (lowercase), role pronouns included when they are on.

        >>> sorted(load_swaps("gender").terms())
        ['female', 'male']
        """
        sides: list[list[str]] = [[], []]
        for pair in self.pairs:
            for side, w in enumerate(pair):
                sides[side].append(w.lower())
        if self.role_pronouns:
            for w, side in ROLE_PRONOUNS.items():
                sides[side].append(w)
        return {g: tuple(sides[i]) for i, g in enumerate(self.groups)}

    @property
    def label(self) -> str:
        """A short signature: ``gender|v1|names:no|sha:0123abcd``."""
        return (f"{self.name}|v{self.version}|names:{'yes' if self.names else 'no'}"
                f"|sha:{self.digest[:8]}")


# ------------------------------------------------------------------------------ loading
def builtin_lists() -> list[str]:
    """Names of the built-in word lists."""
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(__name__).iterdir()
                  if p.name.endswith(".yaml"))



def _check_words(model: _PairsFile, where: ConfigSource) -> None:
    """Every entry is one word, and every word appears once in the file."""
    seen: dict[str, tuple[str, int]] = {}
    sections = [("pairs", model.pairs), ("names", model.names)]
    for section, pairs in sections:
        for i, pair in enumerate(pairs):
            for side, word in enumerate(pair):
                field = f"{section}[{i}][{side}]"
                if not _WORD.match(word):
                    raise where.error(field, f"'{word}' is not a single word (letters only; "
                                      "matching is whole words)")
                low = word.lower()
                if model.role_pronouns and low in ROLE_PRONOUNS:
                    raise where.error(field, f"'{word}' is swapped by its role because "
                                      "role_pronouns is true; remove this pair")
                if low in seen:
                    first, first_side = seen[low]
                    if first_side != side:
                        raise where.error(field, f"'{word}' is on both sides: "
                                          f"{model.groups[first_side]} in {first} and "
                                          f"{model.groups[side]} here; a word can only be "
                                          "swapped one way")
                    hint = (" (her/his/him/hers: use role_pronouns: true)"
                            if low in ROLE_PRONOUNS else "")
                    raise where.error(field, f"'{word}' is listed twice (also {first}); a "
                                      "word with two counterparts cannot be swapped back"
                                      + hint)
                seen[low] = (f"{section}[{i}][{side}]", side)


def _resolve(groups: str | os.PathLike) -> tuple[str, str, str]:
    """``(shown name, text, kind)`` for a built-in name or a file path."""
    text_name = os.fspath(groups)
    looks_like_path = (isinstance(groups, os.PathLike) or text_name.endswith((".yaml", ".yml"))
                       or "/" in text_name or os.sep in text_name or Path(text_name).is_file())
    if not looks_like_path:
        known = builtin_lists()
        if text_name not in known:
            err = unknown_name("word list", text_name, known)
            raise NotFoundError(f"groups: {err}; or give the path of a YAML file of pairs")
        res = resources.files(__name__).joinpath(f"{text_name}.yaml")
        return f"{text_name}.yaml (built-in)", res.read_text(encoding="utf-8"), "built-in"
    path = Path(text_name).expanduser()
    if not path.is_file():
        near = sorted(p.name for p in path.parent.glob("*.y*ml")) if path.parent.is_dir() else []
        raise NotFoundError(f"{text_name}: no such word-list file{did_you_mean(path.name, near)}"
                            f"; built-in lists: {', '.join(builtin_lists())}")
    return text_name, path.read_text(encoding="utf-8"), "file"


def load_swaps(groups: str | os.PathLike | SwapList, *, names: bool = False) -> SwapList:
    """Load a word list: a built-in name (``"gender"``) or the path of a pairs file.

    Parameters
    ----------
    groups : a built-in list name, a path to a YAML pairs file, or a loaded SwapList.
    names : also swap the file's ``names:`` pairs (given names are left alone otherwise).

    Raises
    ------
    WorkbenchError
        One line naming the file and the entry: an unknown list, malformed YAML, an
        unknown field, a word on both sides or listed twice, an entry that is not a word.

    >>> sw = load_swaps("gender")
    >>> sw.groups, sw.table["king"]
    (('female', 'male'), ('king', 'queen'))
    """
    if isinstance(groups, SwapList):
        if groups.names == names:
            return groups
        groups = groups.source  # a built-in name or a resolved path
    shown, text, kind = _resolve(groups)
    if kind == "built-in":
        return _parse_cached(shown, text, names, os.fspath(groups))
    return _parse(shown, text, names, str(Path(os.fspath(groups)).expanduser().resolve()))


@functools.lru_cache(maxsize=16)
def _parse_cached(shown: str, text: str, names: bool, key: str) -> SwapList:
    return _parse(shown, text, names, key)


def _parse(shown: str, text: str, names: bool, key: str) -> SwapList:
    data, where = read_yaml(text, shown)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected a mapping with 'pairs:' (a list of [word, "
                          f"counterpart]), got {type(data).__name__}")
    for k in data:
        if k not in _FIELDS:
            raise where.error(str(k), f"unknown key{did_you_mean(str(k), _FIELDS)}; "
                              f"allowed: {', '.join(_FIELDS)}")
    try:
        model = _PairsFile(**data)
    except ValidationError as exc:
        field, msg = validation_message(exc, model=_PairsFile)
        field = field or "pairs"
        if field == "pairs" and exc.errors()[0]["type"] in ("too_short", "missing"):
            msg = "give at least one pair, for example: - [woman, man]"
        elif re.fullmatch(r"(pairs|names)\[\d+\](\[\d+\])?", field):
            msg += "; each entry is a [word, counterpart] pair of two words"
        raise where.error(field, msg) from None
    _check_words(model, where)
    if names and not model.names:
        raise where.error("names", "this list has no 'names:' pairs; add some or leave "
                          "names off")
    pairs = tuple(model.pairs) + (tuple(model.names) if names else ())
    return SwapList(name=model.name or Path(key).stem, groups=model.groups, pairs=pairs,
                    role_pronouns=model.role_pronouns, names=names, source=key,
                    description=model.description, version=str(model.version),
                    digest=sha256_text(text))


__all__ = ["ROLE_PRONOUNS", "SwapList", "builtin_lists", "load_swaps"]
