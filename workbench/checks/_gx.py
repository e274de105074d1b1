"""Everything that touches Great Expectations (the only module importing it).

An ephemeral context per run: nothing is written except, on request, Data Docs into
a folder. Results come back keyed by the rule's position in the suite, because Great
Expectations returns them in its own order.

Importing Great Expectations costs seconds, most of it for things a pandas validation
never runs, so :func:`import_gx` imports it once with changes that cannot alter a
result: the cyclic garbage collector pauses during the import (it builds hundreds of
thousands of objects and no garbage); ``scipy.stats``, ``altair``, ``jsonschema`` and
``mistune``, which it imports only for its distribution and JSON-schema expectations,
their charts and Markdown, arrive on first use; and after :func:`pandas_only` (the
CLI's ``--engine pandas``) it is imported as on an installation without its optional
Spark extra, so pyspark is not imported at all, and without the modules of the
datasource types such a process never uses (Spark, SQL warehouses, pandas reading files
itself: about a third of its import time), whose names only its package of datasources
imports, from stand-ins.

Two of its pandas steps cost more than the rules they serve and are skipped by
:func:`_skip_idle_work`, leaving every result as it was: the MD5 fingerprint of the
whole frame (a batch marker; the run already records the dataset's content hash, and
Great Expectations itself leaves the marker out for frames over 1 GB), and the
Python-level scan of every value for ``decimal.Decimal`` that precedes a column's mean,
sum or standard deviation, which can only find one in an object column.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
import sys
import threading
import types
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import ConfigError, did_you_mean
from ._report import EXAMPLES, CheckResult

# Great Expectations imports pyspark when it is installed, and pyspark warns about
# pandas 3 on import; the pandas engine never touches Spark, so keep the CLI quiet.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)

# keywords Great Expectations manages itself; a suite may not set them
RESERVED = {"id", "meta", "result_format", "rendered_content", "windows", "batch_id",
            "catch_exceptions"}

# imported by Great Expectations at start-up, used only inside the functions of its
# distribution expectations (KL divergence, KS tests) and their charts, of its JSON
# schema rule, and of its Markdown rendering
_ON_FIRST_USE = ("scipy.stats", "altair", "jsonschema", "mistune")

# Great Expectations' datasource modules (in great_expectations.datasource.fluent) that a
# process handing it pandas frames never uses: Spark, SQL databases and warehouses, and
# pandas reading files itself (its dataframe datasource is kept)
_OTHER_DATASOURCES = (
    "alloy_datasource", "aurora_datasource", "bigquery_datasource", "citus_datasource",
    "databricks_sql_datasource", "fabric", "fabric_datasource", "neon_datasource",
    "pandas_azure_blob_storage_datasource", "pandas_dbfs_datasource",
    "pandas_file_path_datasource", "pandas_filesystem_datasource",
    "pandas_google_cloud_storage_datasource", "pandas_s3_datasource",
    "postgres_datasource", "redshift_datasource", "snowflake_datasource",
    "spark_azure_blob_storage_datasource", "spark_datasource", "spark_dbfs_datasource",
    "spark_file_path_datasource", "spark_filesystem_datasource",
    "spark_google_cloud_storage_datasource", "spark_s3_datasource", "sql_datasource",
    "sql_server_datasource", "sqlite_datasource")

_lock = threading.Lock()
_state = {"pandas_only": False, "imported": False, "without_spark": False}


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports it."""

    def __getattr__(self, attr: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)

    def __dir__(self):
        return dir(importlib.import_module(self.__name__))


class _NotUsed(types.ModuleType):
    """Stands in for a datasource module during the import: each name imported from it
    is an empty class of that name, so the datasource type is never defined (and never
    offered as ``context.data_sources.add_...``)."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        cls = type(attr, (), {"__module__": self.__name__})
        setattr(self, attr, cls)
        return cls


def pandas_only() -> None:
    """Declare that this process validates pandas frames only.

    Great Expectations is then imported as if its optional Spark extra were missing
    (pyspark stays unimported), and without the datasource types such a process never
    uses (``tests/test_checks.py`` checks both against the installed release). Call it
    before the first check, and only in a process that will never use
    ``datasource="spark"`` (the CLI does, for ``--engine pandas``).
    """
    _state["pandas_only"] = True


def import_gx():
    """The ``great_expectations`` module, imported once (see the module docstring)."""
    if _state["imported"]:
        return sys.modules["great_expectations"]
    with _lock:
        if not _state["imported"]:
            _import_once()
    return sys.modules["great_expectations"]


def _import_once() -> None:
    placed: dict[str, types.ModuleType | None] = {}
    if "great_expectations" not in sys.modules:
        if _state["pandas_only"] and "pyspark" not in sys.modules:
            placed["pyspark"] = None  # None in sys.modules: `import pyspark` raises ImportError
            for mod in _OTHER_DATASOURCES:
                name = f"great_expectations.datasource.fluent.{mod}"
                placed[name] = _NotUsed(name)
        for name in _ON_FIRST_USE:
            root = name.split(".")[0]
            if name not in sys.modules and importlib.util.find_spec(root) is not None:
                placed[name] = _OnFirstUse(name)
    sys.modules.update(placed)
    collecting = gc.isenabled()
    gc.disable()
    try:
        import great_expectations  # noqa: F401
    finally:
        if collecting:
            gc.enable()
        for name, stand_in in placed.items():
            if name in sys.modules and sys.modules[name] is stand_in:
                del sys.modules[name]
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    _skip_idle_work()
    _state["without_spark"] = "pyspark" in placed
    _state["imported"] = True


def _skip_idle_work() -> None:
    """See the module docstring: no frame fingerprint, no Decimal scan of a numeric array."""
    from great_expectations import util
    from great_expectations.execution_engine import pandas_execution_engine

    # the fingerprint is taken when the frame's memory use is below this threshold
    pandas_execution_engine.HASH_THRESHOLD = 0
    scan = util.does_ndarray_contain_decimal_dtype

    def does_ndarray_contain_decimal_dtype(data) -> bool:
        # a numeric, boolean or datetime array holds no Python objects, hence no Decimal
        return getattr(getattr(data, "dtype", None), "kind", "O") == "O" and scan(data)

    util.does_ndarray_contain_decimal_dtype = does_ndarray_contain_decimal_dtype


@lru_cache(maxsize=1)
def expectation_types() -> list[str]:
    """Every expectation type registered in the installed Great Expectations."""
    import_gx()
    from great_expectations.expectations.registry import (
        list_registered_expectation_implementations,
    )

    return sorted(list_registered_expectation_implementations())


def _impl(type_: str):
    import_gx()
    from great_expectations.expectations.registry import get_expectation_impl

    return get_expectation_impl(type_)


def allowed_kwargs(type_: str) -> list[str]:
    return [f for f in _impl(type_).__fields__ if f not in RESERVED]


ROW_COUNT = ("expect_table_row_count_to_be_between", "expect_table_row_count_to_equal")


def reads_named_columns_only(type_: str, kwargs: dict[str, Any]) -> bool:
    """Whether a rule's result depends only on the columns its keywords name (and the
    row count): true of column, column-pair and multicolumn rules and of the row count,
    unless a ``row_condition`` brings in other columns; false of table-shape rules
    (column lists and counts, a column's existence or position)."""
    import_gx()
    from great_expectations.expectations.expectation import (
        ColumnAggregateExpectation,
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    if kwargs.get("row_condition"):
        return False
    return type_ in ROW_COUNT or issubclass(_impl(type_), (
        ColumnMapExpectation, ColumnAggregateExpectation, ColumnPairMapExpectation,
        MulticolumnMapExpectation))


def validate_kwargs(type_: str, kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """``(field, message)`` for the first problem with a rule's keywords, else None."""
    from pydantic.v1 import ValidationError as V1Error

    allowed = allowed_kwargs(type_)
    for key in kwargs:
        if key not in allowed:
            return key, (f"not a keyword of {type_}{did_you_mean(key, allowed)}; allowed: "
                         f"{', '.join(allowed)}")
    try:
        _impl(type_)(**kwargs)
    except V1Error as exc:
        errs = exc.errors()
        missing = [e for e in errs if e["type"] == "value_error.missing"]
        err = missing[0] if missing else errs[0]
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        if err["type"] == "value_error.missing":
            return loc, f"required by {type_}"
        return loc, err["msg"]
    except Exception as exc:  # noqa: BLE001 - GE raises its own config errors
        return "", f"{type_}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


def _quiet_context():
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _domain_columns(kwargs: dict[str, Any]) -> list[str]:
    """The columns Great Expectations reads for a map rule (its domain), in its order."""
    if kwargs.get("column") is not None:
        return [kwargs["column"]]
    if kwargs.get("column_A") is not None and kwargs.get("column_B") is not None:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _named_row(frame: pd.DataFrame, label, id_column: str, domain: list[str]) -> dict:
    """The row dict Great Expectations builds for ``unexpected_index_column_names``:
    each domain column's value, with the id column's after the first one."""
    row: dict[str, Any] = {}
    for col in domain:
        row[col] = frame.at[label, col]
        row[id_column] = frame.at[label, id_column]
    return row or {id_column: frame.at[label, id_column]}


def _examples(res: dict, rule, id_column: str | None,
              frame: pd.DataFrame | None = None) -> list:
    column = rule.column
    values = list(res.get("partial_unexpected_list") or [])
    index = list(res.get("partial_unexpected_index_list") or [])
    out = []
    for k, v in enumerate(values[:EXAMPLES]):
        row = index[k] if k < len(index) else None
        if frame is not None and id_column and row is not None and not isinstance(row, dict):
            row = _named_row(frame, row, id_column, _domain_columns(rule.kwargs))
        if isinstance(row, dict):
            label = row.get(id_column) if id_column else None
            rest = {c: x for c, x in row.items() if c != id_column or c == column}
            value = rest.get(column, v) if column else (rest or v)
            out.append({"row": label, "value": value})
        else:
            out.append({"row": row, "value": v})
    return out


def _to_result(vr, rule, id_column: str | None,
               frame: pd.DataFrame | None = None) -> CheckResult:
    res = dict(vr.result or {})
    exc = vr.exception_info or {}
    raised = bool(exc.get("raised_exception")) if isinstance(exc, dict) else False
    error = None
    if raised:
        msg = str(exc.get("exception_message") or "raised an exception")
        error = msg.strip().splitlines()[0] if msg.strip() else msg
    column = rule.column
    pct = res.get("unexpected_percent")
    observed = res.get("observed_value")
    examples = _examples(res, rule, id_column, frame)
    if not vr.success and not examples and observed is not None:
        examples = [{"observed_value": observed}]
    return CheckResult(
        expectation=rule.type, column=column, success=bool(vr.success),
        unexpected_count=int(res.get("unexpected_count") or 0),
        unexpected_percent=float(pct) if pct is not None else 0.0,
        examples=examples, index=rule.index, engine="great_expectations",
        kwargs=dict(rule.kwargs), notes=rule.meta.get("notes"),
        element_count=res.get("element_count"), observed=observed, error=error)


def run_expectations(frame: pd.DataFrame, rules, *, suite_name: str,
                     id_column: str | None = None,
                     data_docs_dir: Path | None = None,
                     datasource: str = "pandas") -> dict[int, CheckResult]:
    """Validate ``frame`` against the Great Expectations ``rules``; results by rule index.

    With ``data_docs_dir`` the run goes through a Checkpoint whose
    ``UpdateDataDocsAction`` builds Data Docs there (they need a network for styling).
    ``datasource="spark"`` validates a Spark DataFrame on Spark (see ``_spark``).
    """
    if not rules:
        return {}
    gx = import_gx()
    if datasource == "spark" and _state["without_spark"]:
        raise ConfigError("engine: this process imported Great Expectations for pandas "
                          "only, so it cannot run Spark checks; run them in a process of "
                          "their own", param="engine")
    ctx = _quiet_context()
    batch = (getattr(ctx.data_sources, f"add_{datasource}")("workbench").add_dataframe_asset("frame")
             .add_batch_definition_whole_dataframe("whole"))
    expectations = []
    for rule in rules:
        exp = _impl(rule.type)(**rule.kwargs)
        exp.meta = {**rule.meta, "workbench_index": rule.index}
        expectations.append(exp)
    # built whole and saved once: adding rules to a saved suite re-saves it per rule
    suite = ctx.suites.add(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}-validation", data=batch, suite=suite))
    # return_unexpected_index_query=False: SUMMARY results never carry the query, yet
    # without it Great Expectations still writes every failing row's index into one
    result_format: dict[str, Any] = {"result_format": "SUMMARY",
                                     "partial_unexpected_count": EXAMPLES,
                                     "return_unexpected_index_query": False}
    # On pandas, failing rows come back as index labels and the id column is read for
    # the few examples only: with unexpected_index_column_names Great Expectations
    # builds a dict per unexpected row in Python (minutes on a million failing rows),
    # then keeps the first EXAMPLES of them.
    by_label = datasource == "pandas" and isinstance(frame, pd.DataFrame)
    if id_column and not by_label:
        result_format["unexpected_index_column_names"] = [id_column]
    params = {"dataframe": frame}
    if data_docs_dir is not None:
        Path(data_docs_dir).mkdir(parents=True, exist_ok=True)
        ctx.add_data_docs_site(site_name="workbench", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
        cp = ctx.checkpoints.add(gx.Checkpoint(
            name=f"{suite_name}-checkpoint", validation_definitions=[vd],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs",
                                                        site_names=["workbench"])],
            result_format=result_format))
        vres = next(iter(cp.run(batch_parameters=params).run_results.values()))
    else:
        vres = vd.run(batch_parameters=params, result_format=result_format)
    by_index = {r.index: r for r in rules}
    out: dict[int, CheckResult] = {}
    for vr in vres.results:
        idx = int(vr.expectation_config.meta["workbench_index"])
        out[idx] = _to_result(vr, by_index[idx], id_column, frame if by_label else None)
    return out
