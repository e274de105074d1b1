"""Check suites as YAML: loading and validation, independent of the execution engine.

A suite names each rule with a Great Expectations expectation type and its keyword
arguments verbatim, or with one of the workbench's text-aware rules (``RULES``)::

    name: support_qa
    id_column: id            # optional: failing examples name rows by this column
    expectations:
      - type: expect_column_values_to_not_be_null
        column: answer
        mostly: 0.99
        meta: {notes: every question needs an answer}
    clean:                   # optional: rules for `workbench clean`
      - type: drop_nulls
        columns: [question, answer]

Every error names the file, the field path and its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..core.config import ConfigSource, read_yaml, rename_keys, validate
from ..core.digest import sha256_text
from ..core.errors import ConfigError, NotFoundError, WorkbenchError, did_you_mean
from ._rules import RULES, rule_columns

TOP_KEYS = ("name", "description", "id_column", "expectations", "clean")
Engine = Literal["great_expectations", "workbench"]


class ExpectationSpec(BaseModel):
    """One rule: an expectation type, its keyword arguments, and free-form ``meta``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any] = {}
    engine: Engine = "great_expectations"
    index: int = 0

    @property
    def column(self) -> str | None:
        col = self.kwargs.get("column")
        return str(col) if col is not None else None

    @property
    def rule_id(self) -> str | None:
        rid = self.meta.get("id")
        return str(rid) if rid is not None else None


class CleanStepSpec(BaseModel):
    """One declared cleaning step: its type and keyword arguments (validated by clean)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    kwargs: dict[str, Any]
    index: int = 0


class SuiteSpec(BaseModel):
    """A loaded, validated suite."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    path: str
    description: str = ""
    id_column: str | None = None
    expectations: tuple[ExpectationSpec, ...] = ()
    clean: tuple[CleanStepSpec, ...] = ()
    digest: str = ""
    lines: dict[str, int] = {}

    def line(self, field: str) -> int | None:
        """The line of ``field`` (or of its nearest parent) in the file."""
        return ConfigSource(self.path, self.lines).line(field)

    def error(self, field: str, message: str) -> WorkbenchError:
        """``FILE: FIELD (line N): MESSAGE`` as a ConfigError."""
        return ConfigSource(self.path, self.lines).error(field, message)

    def rule(self, rule_id: str) -> ExpectationSpec:
        for e in self.expectations:
            if e.rule_id == rule_id:
                return e
        ids = [e.rule_id for e in self.expectations if e.rule_id]
        raise ConfigError(f"{self.path}: no rule with meta.id '{rule_id}'"
                          f"{did_you_mean(rule_id, ids)}; ids: {', '.join(ids) or 'none'}")


# ----------------------------------------------------------------------------- loading
def _read_yaml(path: Path, shown: str) -> tuple[Any, dict[str, int], str]:
    if not path.is_file():
        suites = sorted(p.name for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        raise NotFoundError(f"{shown}: no such suite file"
                            + did_you_mean(path.name, suites)
                            + (f"; suites in {path.parent}: {', '.join(suites)}" if suites else ""))
    text = path.read_text(encoding="utf-8")
    data, source = read_yaml(text, shown)
    return data, source.lines, sha256_text(text)


def _split_item(item: Any, proto: SuiteSpec, where: str, kind: str
                ) -> tuple[str, dict[str, Any], dict]:
    if not isinstance(item, dict):
        raise proto.error(where, "expected a mapping with 'type:' and its keyword "
                          f"arguments, got {type(item).__name__}")
    if "type" not in item:
        raise proto.error(f"{where}.type", f"missing; each {kind} needs a 'type:'")
    kwargs = {str(k): v for k, v in item.items() if k not in ("type", "meta")}
    meta = item.get("meta") or {}
    if not isinstance(meta, dict):
        raise proto.error(f"{where}.meta", "expected a mapping (for example "
                          "{notes: ..., id: ...}), got " + type(meta).__name__)
    return str(item["type"]), kwargs, meta


def load_suite(path: str | Path, *, check_types: bool = True,
               require_expectations: bool = True) -> SuiteSpec:
    """Load and validate a suite file.

    Parameters
    ----------
    path : path of the YAML file.
    check_types : validate Great Expectations types and keywords against its registry
        (imports great_expectations; cleaning passes False).
    require_expectations : a suite without rules is an error (cleaning files may
        hold only ``clean:``).
    """
    shown = str(path)
    data, lines, digest = _read_yaml(Path(path), shown)
    proto = SuiteSpec(name=Path(path).stem, path=shown, lines=lines)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected a mapping at the top level (name, "
                          f"expectations, clean), got {type(data).__name__}")
    for key in data:
        if key not in TOP_KEYS:
            raise proto.error(str(key), f"unknown key{did_you_mean(str(key), TOP_KEYS)}; "
                              f"allowed: {', '.join(TOP_KEYS)}")
    for key in ("name", "description", "id_column"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise proto.error(key, f"expected text, got {type(data[key]).__name__}")
    raw_rules = data.get("expectations") or []
    raw_clean = data.get("clean") or []
    for key, val in (("expectations", raw_rules), ("clean", raw_clean)):
        if not isinstance(val, list):
            raise proto.error(key, f"expected a list of rules, got {type(val).__name__}")
    if require_expectations and not raw_rules:
        raise proto.error("expectations", "the suite has no rules; add at least one under "
                          "'expectations:' (for example: - type: "
                          "expect_column_values_to_not_be_null, column: answer)")
    if not raw_rules and not raw_clean:
        raise proto.error("clean", "no rules: add 'expectations:' or 'clean:' rules")

    rules: list[ExpectationSpec] = []
    seen: dict[tuple, int] = {}
    ge_names: list[str] | None = None
    for i, item in enumerate(raw_rules):
        where = f"expectations[{i}]"
        type_, kwargs, meta = _split_item(item, proto, where, "rule")
        if type_ in RULES:
            engine: Engine = "workbench"
            # kept under today's names, so running the rule does not warn a second time
            source = ConfigSource(shown, lines)
            kwargs = rename_keys(kwargs, RULES[type_].args.renamed_keys, source=source,
                                 at=where)
            validate(RULES[type_].args, kwargs, source, at=where, keywords_of=type_)
        else:
            engine = "great_expectations"
            if check_types:
                from . import _gx

                ge_names = ge_names or _gx.expectation_types()
                if type_ not in ge_names:
                    raise proto.error(
                        f"{where}.type", f"unknown expectation type '{type_}'"
                        f"{did_you_mean(type_, [*ge_names, *RULES])}; use a Great Expectations "
                        "expectation type (snake_case) or a workbench rule: "
                        + ", ".join(sorted(RULES)))
                problem = _gx.validate_kwargs(type_, kwargs)
                if problem:
                    raise proto.error(f"{where}.{problem[0]}" if problem[0] else where,
                                      problem[1])
        key = (type_, repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        if key in seen:
            raise proto.error(where, f"the same rule as expectations[{seen[key]}]; "
                              "remove one")
        seen[key] = i
        rules.append(ExpectationSpec(type=type_, kwargs=kwargs, meta=meta, engine=engine,
                                     index=i))
    ids = [r.rule_id for r in rules if r.rule_id]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise proto.error("expectations", f"meta.id '{dupes[0]}' is used twice; ids must be "
                          "unique")
    steps = []
    for i, item in enumerate(raw_clean):
        type_, kwargs, _ = _split_item(item, proto, f"clean[{i}]", "cleaning rule")
        steps.append(CleanStepSpec(type=type_, kwargs=kwargs, index=i))
    return SuiteSpec(name=str(data.get("name") or Path(path).stem), path=shown,
                     description=str(data.get("description") or ""),
                     id_column=data.get("id_column"), expectations=tuple(rules),
                     clean=tuple(steps), digest=digest, lines=lines)


def ge_columns(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """``(keyword, column)`` pairs a Great Expectations rule names."""
    out = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            out.append((key, kwargs[key]))
    for i, c in enumerate(kwargs.get("column_list") or []):
        out.append((f"column_list[{i}]", str(c)))
    return out


def check_columns(suite: SuiteSpec, columns: list[str], *, dataset: str) -> None:
    """Every column a rule reads exists in the dataset; else name it and list what exists."""
    cols = [str(c) for c in columns]

    def missing(field: str, col: str) -> WorkbenchError:
        return suite.error(field, f"no column '{col}' in {dataset}{did_you_mean(col, cols)}; "
                           f"it has: {', '.join(cols)}")

    if suite.id_column and suite.id_column not in cols:
        raise missing("id_column", suite.id_column)
    for rule in suite.expectations:
        if rule.engine == "workbench":
            pairs = rule_columns(RULES[rule.type].args(**rule.kwargs))
        else:
            pairs = ge_columns(rule.kwargs)
        for key, col in pairs:
            if col not in cols:
                raise missing(f"expectations[{rule.index}].{key}", col)


def find_suite(project, name_or_path: str | Path) -> Path:
    """A suite path as given (relative to the current folder, else to the project), or
    ``checks/<name>.yaml`` for a bare name."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in str(name_or_path):
        if not p.is_absolute() and not p.exists() and (project.root / p).exists():
            return project.root / p
        return p
    return project.checks_dir / f"{name_or_path}.yaml"


def list_suites(project) -> list[Path]:
    """The suites in the project's ``checks/`` folder."""
    d = project.checks_dir
    return sorted([*d.glob("*.yaml"), *d.glob("*.yml")]) if d.is_dir() else []
