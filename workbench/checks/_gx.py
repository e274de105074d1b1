"""Everything that touches Great Expectations (the only module importing it).

An ephemeral context per run: nothing is written except, on request, Data Docs into
a folder. Results come back keyed by the rule's position in the suite, because Great
Expectations returns them in its own order.
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import did_you_mean
from ._report import EXAMPLES, CheckResult

# Great Expectations imports pyspark when it is installed, and pyspark warns about
# pandas 3 on import; the pandas engine never touches Spark, so keep the CLI quiet.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)

# keywords Great Expectations manages itself; a suite may not set them
RESERVED = {"id", "meta", "result_format", "rendered_content", "windows", "batch_id",
            "catch_exceptions"}


@lru_cache(maxsize=1)
def expectation_types() -> list[str]:
    """Every expectation type registered in the installed Great Expectations."""
    from great_expectations.expectations.registry import (
        list_registered_expectation_implementations,
    )

    return sorted(list_registered_expectation_implementations())


def _impl(type_: str):
    from great_expectations.expectations.registry import get_expectation_impl

    return get_expectation_impl(type_)


def allowed_kwargs(type_: str) -> list[str]:
    return [f for f in _impl(type_).__fields__ if f not in RESERVED]


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
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _examples(res: dict, column: str | None, id_column: str | None) -> list:
    values = list(res.get("partial_unexpected_list") or [])
    index = list(res.get("partial_unexpected_index_list") or [])
    out = []
    for k, v in enumerate(values[:EXAMPLES]):
        row = index[k] if k < len(index) else None
        if isinstance(row, dict):
            label = row.get(id_column) if id_column else None
            rest = {c: x for c, x in row.items() if c != id_column or c == column}
            value = rest.get(column, v) if column else (rest or v)
            out.append({"row": label, "value": value})
        else:
            out.append({"row": row, "value": v})
    return out


def _to_result(vr, rule, id_column: str | None) -> CheckResult:
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
    examples = _examples(res, column, id_column)
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
    import great_expectations as gx

    if not rules:
        return {}
    ctx = _quiet_context()
    batch = (getattr(ctx.data_sources, f"add_{datasource}")("workbench").add_dataframe_asset("frame")
             .add_batch_definition_whole_dataframe("whole"))
    suite = ctx.suites.add(gx.ExpectationSuite(name=suite_name))
    for rule in rules:
        exp = _impl(rule.type)(**rule.kwargs)
        exp.meta = {**rule.meta, "workbench_index": rule.index}
        suite.add_expectation(exp)
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}-validation", data=batch, suite=suite))
    result_format: dict[str, Any] = {"result_format": "SUMMARY",
                                     "partial_unexpected_count": EXAMPLES}
    if id_column:
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
        out[idx] = _to_result(vr, by_index[idx], id_column)
    return out
