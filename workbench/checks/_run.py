"""Run a suite on a frame (engine-independent orchestration) and record it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from ..core.errors import ConfigError, DataError, WorkbenchError
from . import _rules
from ._history import record_check
from ._report import CheckReport, CheckResult, DatasetRef
from ._rules import RULES, rule_columns, run_rule
from ._suite import SuiteSpec, check_columns, ge_columns, load_suite

Progress = Callable[[float, str], None]


def _workbench_result(rule, frame: pd.DataFrame, id_column: str | None) -> CheckResult:
    args = RULES[rule.type].args(**rule.kwargs)
    out = run_rule(rule.type, args, frame, id_column=id_column)
    return CheckResult(
        expectation=rule.type, column=rule.column, success=out.success,
        unexpected_count=out.unexpected_count, unexpected_percent=out.unexpected_percent,
        examples=out.examples, index=rule.index, engine="workbench", kwargs=dict(rule.kwargs),
        notes=rule.meta.get("notes"), element_count=out.element_count, observed=out.observed)


def columns_read(suite: SuiteSpec, *,
                 named_only: Callable[[str, dict], bool] | None = None) -> list[str] | None:
    """The columns ``suite`` reads (its id column first), or None if it may read any.

    A stored version is then read for these columns only. Only rules known to read just
    the columns they name qualify: Great Expectations' column, column-pair, multicolumn
    and row-count rules, and the workbench's own text rules; any other rule (a table's
    column list, a rule registered by an extension) reads the whole frame.
    ``named_only(type, kwargs)`` tells a Great Expectations rule of the first kind
    (default: asked of Great Expectations' own classes, which imports it).
    """
    from . import _gx

    named_only = named_only or _gx.reads_named_columns_only
    cols = [suite.id_column] if suite.id_column else []
    for rule in suite.expectations:
        if rule.engine == "workbench":
            if RULES[rule.type].fn.__module__ != _rules.__name__:
                return None
            cols += [c for _, c in rule_columns(RULES[rule.type].args(**rule.kwargs))]
        elif named_only(rule.type, rule.kwargs):
            cols += [c for _, c in ge_columns(rule.kwargs)]
        else:
            return None
    return list(dict.fromkeys(cols))


# Great Expectations rules that name a column yet read the table's columns (which exist,
# their types); every other one named ``expect_table_...`` reads the table's shape too
_SHAPE_OF_COLUMNS = ("expect_column_to_exist", "expect_column_type_to_be")


def _names_its_columns(type_: str, kwargs: dict) -> bool:
    """A guess of :func:`_gx.reads_named_columns_only` from the rule's name and keywords,
    without importing Great Expectations (only a prefetch relies on it, see below)."""
    from ._gx import ROW_COUNT

    if kwargs.get("row_condition") or type_ in _SHAPE_OF_COLUMNS:
        return False
    if type_.startswith("expect_table_"):
        return type_ in ROW_COUNT
    return bool(ge_columns(kwargs))


def _suite_and_data(project, data: str, suite_path):
    """``load_suite(suite_path)`` and ``resolve_data(project, data, columns=...)``, the
    data read in a thread while the suite loads.

    Loading the suite imports Great Expectations, a second or more of Python holding the GIL;
    reading Parquet mostly releases it, so the two overlap. The columns to read are
    guessed from the suite's YAML alone and used only if the loaded suite agrees;
    otherwise (and when the YAML is bad, so its error comes first as before) the data
    is read after the suite, as it would be without the thread.
    """
    from ..data import resolve_data

    try:
        guess = columns_read(load_suite(suite_path, check_types=False),
                             named_only=_names_its_columns)
    except WorkbenchError:
        guess = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-read") as pool:
        pending = pool.submit(resolve_data, project, data, columns=guess) if guess else None
        suite = load_suite(suite_path)
        columns = columns_read(suite)
        if pending is not None and columns == guess:
            return suite, pending.result()
    return suite, resolve_data(project, data, columns=columns)


def run_checks(frame: pd.DataFrame, suite: SuiteSpec, *, dataset: DatasetRef,
               engine: str = "pandas", data_docs_dir: Path | None = None,
               progress: Progress | None = None) -> CheckReport:
    """Validate ``frame`` against ``suite``; one result per rule, in suite order.

    Great Expectations rules run in one real Great Expectations validation; the
    workbench's text rules run on the same frame and are reported the same way.
    """
    if engine != "pandas":
        raise ConfigError(f"engine: '{engine}' is not available here; use pandas", param="engine")
    if len(frame) == 0:
        raise DataError(f"{dataset.name}: the dataset is empty (0 rows); nothing to check")
    if not suite.expectations:
        raise suite.error("expectations", "the suite has no rules")
    check_columns(suite, list(frame.columns), dataset=f"{dataset.name}@{dataset.version}")
    note = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    frame = frame.reset_index(drop=True)
    ge_rules = [r for r in suite.expectations if r.engine == "great_expectations"]
    wb_rules = [r for r in suite.expectations if r.engine == "workbench"]
    results: dict[int, CheckResult] = {}
    total = len(wb_rules) + (2 if ge_rules else 0)
    done = 0
    if ge_rules:
        note(0.0, "starting Great Expectations")
        from . import _gx

        note(0.5 / total, f"validating {len(ge_rules)} Great Expectations rules")
        results.update(_gx.run_expectations(frame, ge_rules, suite_name=suite.name,
                                            id_column=suite.id_column,
                                            data_docs_dir=data_docs_dir))
        done = 2
    for rule in wb_rules:
        note(done / total, f"{rule.type} ({rule.column or ''})")
        results[rule.index] = _workbench_result(rule, frame, suite.id_column)
        done += 1
    note(1.0, "done")
    ordered = [results[r.index] for r in suite.expectations]
    return CheckReport(success=all(r.success for r in ordered), suite=suite.name,
                       dataset=dataset, results=ordered, suite_path=suite.path,
                       duration_s=time.perf_counter() - t0)


def check_dataset(project, data: str, suite_path: str | os.PathLike, *,
                  data_docs: bool = False, progress: Progress | None = None,
                  engine: str = "pandas",
                  spark_master: str | None = None) -> tuple[CheckReport, int]:
    """Check a stored dataset ``NAME[@VERSION]`` or a file; record the run.

    Great Expectations Data Docs are built only with ``data_docs=True`` (they cost a
    Checkpoint and a site build); the run then records their path as ``data_docs``.

    Bad input (unknown dataset, bad suite, missing column, empty data) raises
    :class:`WorkbenchError` before any run is stored. Returns ``(report, run_id)``.
    """
    from ..data import content_hash

    if engine == "spark":
        from ._spark import check_dataset_spark

        return check_dataset_spark(project, data, suite_path, master=spark_master,
                                   data_docs=data_docs, progress=progress)
    suite, (dv, frame, label) = _suite_and_data(project, data, suite_path)
    if dv is not None:
        ref = DatasetRef(name=dv.name, version=dv.version, rows=dv.rows)
        digest = dv.content_hash
        names = [str(c["name"]) for c in dv.columns]
    else:
        digest = content_hash(frame)
        ref = DatasetRef(name=label, version=digest[:12], rows=len(frame))
        names = list(frame.columns)
    if len(frame) == 0:
        raise DataError(f"{data}: the dataset is empty (0 rows); nothing to check")
    check_columns(suite, names, dataset=f"{ref.name}@{ref.version}")
    return record_check(
        project, suite, suite_path, data=data, ref=ref, digest=digest, dv=dv, engine=engine,
        data_docs=data_docs,
        run=lambda docs_dir: run_checks(frame, suite, dataset=ref, engine=engine,
                                        data_docs_dir=docs_dir, progress=progress))


