"""Probe sets: declarative YAML (groups, fillers, templates) crossed into prompts.

A probe set never runs code: it is read with ``yaml.safe_load`` into a frozen pydantic
model with unknown keys rejected, then checked (slots, groups, ids) with errors that name
the file and the field. Bundled sets live in ``workbench/probes/sets/*.yaml``; a project adds
its own in ``<project>/probesets/*.yaml``; canonical benchmarks (``bold:gender``,
``crows-pairs`` ...) come from :mod:`._benchmarks`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..core.config import ConfigSource, read_yaml, validate
from ..core.digest import sha256_json
from ..core.errors import (
    ConfigError,
    NotFoundError,
    did_you_mean,
)

BUNDLED = Path(__file__).resolve().parent / "sets"
SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SUBJECT = "subject"
# A phrase starting with one of these words is lower-cased inside a sentence, so
# "As a leader, {subject}" reads "As a leader, the woman" (names keep their capital).
LOWER_INSIDE = {"the", "my", "a", "an", "she", "he", "they", "our", "your", "his", "her",
                "their", "this", "that", "someone", "somebody"}


class TemplateSpec(BaseModel):
    """One template: an id (kept in every prompt and report), its text, and optional
    meaning-preserving ``variants`` (other phrasings using the same slots)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    text: str = Field(min_length=1)
    variants: list[str] = Field(default_factory=list)

    @property
    def phrasings(self) -> list[str]:
        """The text, then each variant: phrasing 1, 2, ..."""
        return [self.text, *self.variants]


class ProbeSet(BaseModel):
    """A demographic probe set as written in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=100)
    version: int = Field(ge=1)
    attribute: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    license: str = ""
    groups: dict[str, list[str]]
    fillers: dict[str, list[str]] = Field(default_factory=dict)
    templates: list[str | TemplateSpec] = Field(min_length=1)
    controls: list[str] | dict[str, list[str]] | None = None
    scorer: str = "sentiment"

    def template_specs(self) -> list[TemplateSpec]:
        """Templates as ``{id, text}``; a bare string gets the id ``t<position>``."""
        return [t if isinstance(t, TemplateSpec) else TemplateSpec(id=f"t{i + 1}", text=t)
                for i, t in enumerate(self.templates)]


@dataclass(frozen=True)
class ProbePrompt:
    """One prompt of a probe plan, with everything the statistics pair on."""

    id: str
    text: str
    group: str
    phrase: str
    template: str
    context: str
    fillers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    phrasing: int = 1


@dataclass(frozen=True)
class ControlText:
    """A group's phrase in a neutral carrier sentence: what the scorer alone gives it."""

    group: str
    phrase: str
    text: str
    context: str


@dataclass(frozen=True)
class ProbePlan:
    """What a probe run needs: the prompts, and where they came from."""

    name: str
    version: int
    attribute: str
    groups: list[str]
    prompts: list[ProbePrompt]
    scorer: str = "sentiment"
    source: str = ""
    license: str = ""
    paired: bool = True
    digest: str = ""
    kind: Literal["generate", "likelihood"] = "generate"
    controls: list[ControlText] = field(default_factory=list)

    @property
    def n_phrasings(self) -> int:
        """The most phrasings any template has (1 when no template lists variants)."""
        return max((p.phrasing for p in self.prompts), default=1)

    @property
    def templates(self) -> list[str]:
        return list(dict.fromkeys(p.template for p in self.prompts))

    @property
    def n_contexts(self) -> int:
        return len({p.context for p in self.prompts})


def parse_probe_set(data: Any, *, where: str | ConfigSource = "probe set") -> ProbeSet:
    """Validate a mapping (from YAML) into a :class:`ProbeSet`; errors name the field."""
    source = where if isinstance(where, ConfigSource) else ConfigSource(where)
    where = source.shown
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with name, version, attribute, "
                          "groups and templates")
    ps = validate(ProbeSet, data, source)
    check_probe_set(ps, where=where)
    return ps


def check_probe_set(ps: ProbeSet, *, where: str = "probe set") -> None:
    """The rules pydantic cannot express: groups, phrases, slots and template ids."""
    if len(ps.groups) < 2:
        raise ConfigError(f"{where}: groups: needs at least two groups to compare, got "
                          f"{len(ps.groups)} ({', '.join(ps.groups) or 'none'})")
    for g, phrases in ps.groups.items():
        if not phrases:
            raise ConfigError(f"{where}: groups.{g}: the group has no phrases; list at least "
                              "one surface phrase (e.g. 'The woman')")
        if any(not str(p).strip() for p in phrases):
            raise ConfigError(f"{where}: groups.{g}: empty phrase")
    for name, values in ps.fillers.items():
        if not values:
            raise ConfigError(f"{where}: fillers.{name}: no values")
        if name == SUBJECT:
            raise ConfigError(f"{where}: fillers.{name}: '{SUBJECT}' is reserved for the "
                              "group phrases")
    seen: set[str] = set()
    for i, t in enumerate(ps.template_specs()):
        if t.id in seen:
            raise ConfigError(f"{where}: templates[{i}].id: duplicate id '{t.id}'")
        seen.add(t.id)
        slots = SLOT.findall(t.text)
        if SUBJECT not in slots:
            raise ConfigError(f"{where}: templates[{i}].text: no {{{SUBJECT}}} slot, so the "
                              "groups never appear in the prompt")
        for s in slots:
            if s != SUBJECT and s not in ps.fillers:
                declared = ", ".join(ps.fillers) or "none"
                raise ConfigError(
                    f"{where}: templates[{i}].text: slot {{{s}}} is not declared in fillers"
                    f"{did_you_mean(s, ps.fillers)}; declared: {declared}")
        _check_variants(t, i, set(slots), where)
    _check_controls(ps, where)


def _check_variants(t: TemplateSpec, i: int, slots: set[str], where: str) -> None:
    """A variant is the same question in other words: exactly the template's slots."""
    seen = {t.text}
    for j, v in enumerate(t.variants):
        at = f"{where}: templates[{i}].variants[{j}] (template '{t.id}')"
        used = set(SLOT.findall(v))
        dropped = sorted(slots - used)
        if dropped:
            raise ConfigError(f"{at}: drops slot(s) {', '.join('{' + d + '}' for d in dropped)}"
                              " that the template uses; a variant must rephrase the "
                              "template with the same slots")
        added = sorted(used - slots)
        if added:
            raise ConfigError(f"{at}: adds slot(s) {', '.join('{' + a + '}' for a in added)}"
                              " that the template does not use; a variant must rephrase the "
                              "template with the same slots")
        if v in seen:
            raise ConfigError(f"{at}: repeats an earlier phrasing of the template")
        seen.add(v)


def _check_controls(ps: ProbeSet, where: str) -> None:
    """Controls are carrier sentences with only {subject}, or texts for every group."""
    if ps.controls is None:
        return
    if isinstance(ps.controls, list):
        if not ps.controls:
            raise ConfigError(f"{where}: controls: empty; list neutral carrier sentences "
                            "such as '{subject} said hello.'")
        for k, text in enumerate(ps.controls):
            slots = set(SLOT.findall(text))
            if slots != {SUBJECT}:
                raise ConfigError(
                    f"{where}: controls[{k}]: a carrier sentence needs the {{{SUBJECT}}} slot "
                    f"and no other; got {', '.join(sorted(slots)) or 'no slots'}")
        return
    missing = [g for g in ps.groups if not ps.controls.get(g)]
    if missing:
        raise ConfigError(
            f"{where}: controls: no control texts for group(s) {', '.join(missing)}; every "
            f"group needs them (groups: {', '.join(ps.groups)}), or give carrier sentences "
            "with {subject} instead")
    unknown = [g for g in ps.controls if g not in ps.groups]
    if unknown:
        raise ConfigError(f"{where}: controls.{unknown[0]}: not a group"
                          f"{did_you_mean(unknown[0], ps.groups)}; groups: "
                          f"{', '.join(ps.groups)}")


def _digest(obj: Any) -> str:
    return sha256_json(obj, length=16, ensure_ascii=False)


def expand(ps: ProbeSet) -> ProbePlan:
    """Cross groups, phrases, fillers and templates into prompts.

    Each template is crossed only with the filler slots it uses. Every prompt of one
    template and filler combination, across groups and phrasings (the text and its
    ``variants``), shares a *context*; ``phrasing`` numbers the wording (1 is the text).
    Controls (``controls:``) become :class:`ControlText` items, one per group phrase and
    carrier sentence.

    Examples
    --------
    >>> ps = parse_probe_set({"name": "x", "version": 1, "attribute": "gender",
    ...     "groups": {"woman": ["She"], "man": ["He", "The man"]},
    ...     "fillers": {"job": ["nurse", "pilot"]},
    ...     "templates": ["{subject} worked as a {job} and"]})
    >>> plan = expand(ps)
    >>> len(plan.prompts), plan.n_contexts, plan.prompts[0].text, plan.prompts[0].context
    (6, 2, 'She worked as a nurse and', 't1|job=nurse')
    """
    prompts: list[ProbePrompt] = []
    for t in ps.template_specs():
        slots = [s for s in dict.fromkeys(SLOT.findall(t.text)) if s != SUBJECT]
        for values in itertools.product(*(ps.fillers[s] for s in slots)):
            fill = dict(zip(slots, map(str, values)))
            context = t.id + "".join(f"|{k}={v}" for k, v in fill.items())
            for k, wording in enumerate(t.phrasings, start=1):
                # phrasing 1 keeps the id it had before variants existed (before/after joins)
                suffix = "" if k == 1 else f"|p{k}"
                for group, phrases in ps.groups.items():
                    for phrase in phrases:
                        slot_values = {SUBJECT: str(phrase), **fill}
                        text = SLOT.sub(lambda m, v=slot_values: _fit(m, v), wording)
                        prompts.append(ProbePrompt(f"{context}|{group}|{phrase}{suffix}", text,
                                                   group, str(phrase), t.id, context, fill,
                                                   phrasing=k))
    return ProbePlan(ps.name, ps.version, ps.attribute, list(ps.groups), prompts,
                     scorer=ps.scorer, source=ps.source, license=ps.license, paired=True,
                     digest=_digest(ps.model_dump(mode="json")), controls=_controls(ps))


def _controls(ps: ProbeSet) -> list[ControlText]:
    if ps.controls is None:
        return []
    out = []
    if isinstance(ps.controls, list):
        for k, carrier in enumerate(ps.controls, start=1):
            for group, phrases in ps.groups.items():
                for phrase in phrases:
                    text = SLOT.sub(lambda m, v={SUBJECT: str(phrase)}: _fit(m, v), carrier)
                    out.append(ControlText(group, str(phrase), text, f"control{k}"))
        return out
    # texts per group: the k-th text of each group is compared with the k-th of the others
    for group in ps.groups:
        for k, text in enumerate(ps.controls[group], start=1):
            out.append(ControlText(group, "", str(text), f"control{k}"))
    return out


def _fit(match: re.Match, values: dict[str, str]) -> str:
    value = values[match.group(1)]
    before = match.string[:match.start()].rstrip()
    first = value.split(" ", 1)[0].lower()
    if before and not before.endswith((".", "!", "?", ":", '"')) and first in LOWER_INSIDE:
        return value[:1].lower() + value[1:]
    return value


def load_probe_set_file(path: str | Path) -> ProbeSet:
    """Read and validate a probe-set YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{p}: no such probe-set file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    return parse_probe_set_text(text, where=str(p))


def parse_probe_set_text(text: str, *, where: str = "probe set") -> ProbeSet:
    """Validate YAML text into a :class:`ProbeSet` (for editors that validate as you type)."""
    data, source = read_yaml(text, where)
    return parse_probe_set(data, where=source)


# ------------------------------------------------------------------------ registry
def probe_set_dirs(project=None) -> list[Path]:
    """Folders searched for ``*.yaml`` probe sets: the project's first, then bundled."""
    dirs = []
    if project is not None:
        dirs.append(project.root / "probesets")
    dirs.append(BUNDLED)
    return dirs


def list_probe_sets(project=None) -> dict[str, Path]:
    """Every YAML probe set by name (a project's own set shadows a bundled one)."""
    found: dict[str, Path] = {}
    for d in reversed(probe_set_dirs(project)):
        if d.is_dir():
            for f in sorted(d.glob("*.yaml")):
                found[f.stem] = f
    return found


