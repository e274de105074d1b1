"""Config files: YAML read safely with line numbers, and one formatter for validation errors.

Every config the workbench reads (check suites, probe sets, training configs, word lists,
the project's ``workbench.yaml``) goes through :func:`read_yaml`, and every pydantic error
about one becomes one line through :func:`validation_error`:
``FILE: KEY.PATH (line N): what is wrong``. A parse error names the line and column and the
parser's problem, never the file's content.

Examples
--------
>>> data, src = read_yaml("a: 1\\nb:\\n  c: x\\n", "cfg.yaml")
>>> src.line("b.c")
3
>>> str(src.error("b.c", "must be a number"))
'cfg.yaml: b.c (line 3): must be a number'
>>> from pydantic import BaseModel, ConfigDict
>>> class A(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     a: int
...     b: dict[str, int]
>>> validate(A, data, src)
Traceback (most recent call last):
  ...
workbench.core.errors.ConfigError: cfg.yaml: b.c (line 3): must be a valid integer, \
unable to parse string as an integer; got 'x'
>>> validate(A, {"a": 1, "b": {"c": 1}, "bb": 2}, src)
Traceback (most recent call last):
  ...
workbench.core.errors.ConfigError: cfg.yaml: bb: unknown key (did you mean 'b'?); allowed: a, b

A model that renamed a key lists ``renamed_keys = {"old": "new"}``; :func:`validate` (and
the model itself, through :func:`rename_keys`) accepts the old name with a
:class:`~workbench.core.errors.RenamedKeyWarning`, and errors name the new key at the old
key's line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import yaml

from .errors import ConfigError, RenamedKeyWarning, did_you_mean

M = TypeVar("M")

# Parts of a pydantic error location that name a union branch or a validator, not a key.
_BRANCH = re.compile(r"^([A-Z]\w*|str|int|float|bool|list|dict|tuple|none|function-\w+"
                     r"|\w+\[.*\]|literal\[.*\])$")
_PARENT = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


class ConfigSource:
    """Where a config came from: the name shown in errors and the line of each key path."""

    def __init__(self, shown: str, lines: Mapping[str, int] | None = None):
        self.shown = str(shown)
        self.lines = dict(lines or {})

    def line(self, field: str) -> int | None:
        """The line of ``field``, or of its nearest parent, in the file."""
        while field:
            if field in self.lines:
                return self.lines[field]
            parent = _PARENT.sub("", field)
            if parent == field:
                return None
            field = parent
        return None

    def error(self, field: str, message: str) -> ConfigError:
        """``FILE: FIELD (line N): MESSAGE`` (``FILE: MESSAGE`` when there is no field)."""
        if not field:
            return ConfigError(f"{self.shown}: {message}")
        line = self.line(field)
        return ConfigError(f"{self.shown}: {field}" + (f" (line {line})" if line else "")
                           + f": {message}")


def line_map(node: Any, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """Key path (``expectations[2].column``) to 1-based line, from a composed YAML node."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = f"{prefix}.{k.value}" if prefix else str(k.value)
            out[path] = k.start_mark.line + 1
            line_map(v, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}[{i}]"
            out[path] = item.start_mark.line + 1
            line_map(item, path, out)
    return out


def read_yaml(text: str, shown: str) -> tuple[Any, ConfigSource]:
    """Parse YAML text with ``yaml.safe_load``; return the data and its :class:`ConfigSource`.

    A syntax error becomes one :class:`ConfigError` naming the line, the column and the
    parser's problem; the file's content is never echoed.
    """
    try:
        data = yaml.safe_load(text)
        lines = line_map(yaml.compose(text)) if data is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ConfigError(f"{shown}: not valid YAML{at}: {problem}") from None
    return data, ConfigSource(shown, lines)


def field_path(loc: Sequence[Any]) -> str:
    """``("expectations", 2, "column")`` -> ``"expectations[2].column"``.

    Union-branch and validator names that pydantic puts in locations are left out.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "__root__" or _BRANCH.match(str(part)):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(model: type | None, loc: Sequence[Any]) -> list[str]:
    for part in loc[:-1]:
        if model is None:
            return []
        if isinstance(part, int) or _BRANCH.match(str(part)):
            continue
        field = getattr(model, "model_fields", {}).get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        model = ann if isinstance(ann, type) and hasattr(ann, "model_fields") else None
    return list(getattr(model, "model_fields", {})) if model is not None else []


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def validation_message(exc: Any, *, model: type | None = None,
                       keywords_of: str | None = None,
                       suggest: Callable[[str, list[str]], str] = did_you_mean,
                       ) -> tuple[str, str]:
    """``(key path, message)`` for the error in a pydantic ``ValidationError`` to show.

    An unknown key is preferred, then a missing one, then the first error. ``keywords_of``
    words an unknown key as "not a keyword of X" (for rule and step arguments).
    """
    errs = exc.errors()
    err = next((e for e in errs if e["type"] == "extra_forbidden"),
               next((e for e in errs if e["type"] == "missing"), errs[0]))
    loc = tuple(err.get("loc", ()))
    path = field_path(loc)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc)
        name = str(loc[-1]) if loc else ""
        head = f"not a keyword of {keywords_of}" if keywords_of else "unknown key"
        tail = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return path, f"{head}{suggest(name, allowed)}{tail}"
    if kind == "missing":
        return path, (f"required by {keywords_of}" if keywords_of else "required key is missing")
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if inner is not None and hasattr(inner, "loc") and hasattr(inner, "msg"):
        return str(inner.loc), str(inner.msg)
    msg = str(err.get("msg", "invalid value"))
    msg = re.sub(r"^(Value error, |Assertion failed, )", "", msg)
    msg = msg.replace("Input should be", "must be").replace("Input", "value")
    if kind not in ("value_error", "assertion_error") and "input" in err \
            and _scalar(err["input"]):
        msg += f"; got {err['input']!r}"
    return path, msg


def validation_error(exc: Any, source: ConfigSource, *, at: str = "",
                     model: type | None = None, keywords_of: str | None = None,
                     suggest: Callable[[str, list[str]], str] = did_you_mean) -> ConfigError:
    """One :class:`ConfigError` for a pydantic ``ValidationError``: file, key path, line.

    ``at`` is the key path of the validated mapping inside the file (``expectations[2]``).
    """
    path, msg = validation_message(exc, model=model, keywords_of=keywords_of, suggest=suggest)
    full = f"{at}.{path}" if at and path else (at or path)
    return source.error(full, msg)


def rename_keys(data: Any, renamed: Mapping[str, str], *, source: ConfigSource | None = None,
                at: str = "", warn: bool = True) -> Any:
    """``data`` with each old key of ``renamed`` (``{"old": "new"}``) under its new name.

    Each old key found gives one :class:`~workbench.core.errors.RenamedKeyWarning` naming
    the new key (``warn=False`` for stored results, which the user did not write), and the
    new key path is given the old key's line in ``source``, so an error about its value
    points where it was written. Both names at once are refused. Data that is not a
    mapping is returned as it is (the model's own validation words that error).

    >>> import warnings
    >>> _, src = read_yaml("probes:\\n  n_bootstrap: 50\\n", "w.yaml")
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     rename_keys({"n_bootstrap": 50}, {"n_bootstrap": "n_resamples"}, source=src,
    ...                 at="probes")
    {'n_resamples': 50}
    >>> str(seen[0].message).split("; ")[0]
    "w.yaml: probes.n_bootstrap (line 2): renamed to 'n_resamples'"
    >>> src.line("probes.n_resamples")
    2
    """
    if not isinstance(data, Mapping) or not any(old in data for old in renamed):
        return data
    out = dict(data)
    for old, new in renamed.items():
        if old not in out:
            continue
        field = f"{at}.{old}" if at else old
        shown = source or ConfigSource("")
        if new in out:
            raise _located(shown, field, f"give '{new}' or its old name '{old}', not both")
        out[new] = out.pop(old)
        if source is not None and source.line(field) is not None:
            source.lines[f"{at}.{new}" if at else new] = source.line(field)
        if warn:
            warnings.warn(str(_located(shown, field, f"renamed to '{new}'; the old name still "
                                       "works for now")), RenamedKeyWarning, stacklevel=2)
    return out


def _located(source: ConfigSource, field: str, message: str) -> ConfigError:
    """``source.error``, or ``FIELD: MESSAGE`` for data that came from no file."""
    return source.error(field, message) if source.shown else ConfigError(f"{field}: {message}")


def validate(model: type[M], data: Any, source: ConfigSource, *, at: str = "",
             **kwargs: Any) -> M:
    """``model.model_validate(data)``, with errors formatted by :func:`validation_error`.

    A key the model renamed (its ``renamed_keys``) is accepted under its old name with a
    warning that names the file, the line and the new key (:func:`rename_keys`).
    """
    from pydantic import ValidationError

    renamed = getattr(model, "renamed_keys", None)
    if renamed:
        data = rename_keys(data, renamed, source=source, at=at)
    try:
        return model.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise validation_error(exc, source, at=at, model=model, **kwargs) from None
