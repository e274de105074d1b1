"""Check suites on Spark: Great Expectations' Spark execution engine on a Spark DataFrame.

The data (a Parquet/CSV file or folder, or a stored dataset's Parquet copy) is read by
Spark and never collected; the suite's Great Expectations rules run in one Great
Expectations validation through its Spark datasource and come back in the same
:class:`CheckReport` shape as the pandas engine. The workbench's text rules run on pandas
frames only (near duplicates, shares and balance need the whole column), so a suite that
uses them is refused on Spark with one line naming them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..core.errors import ConfigError, DataError
from ._report import CheckReport, DatasetRef
from ._suite import SuiteSpec, check_columns, load_suite


def pandas_only_rules(suite: SuiteSpec) -> list:
    """The suite's rules that the Spark engine cannot run (the workbench text rules)."""
    return [r for r in suite.expectations if r.engine == "workbench"]


def refuse_pandas_only(suite: SuiteSpec) -> None:
    rules = pandas_only_rules(suite)
    if rules:
        named = ", ".join(f"expectations[{r.index}] {r.type}" for r in rules)
        raise ConfigError(
            f"{suite.path or suite.name}: the Spark engine runs Great Expectations rules "
            f"only; these workbench text rules are pandas-only: {named}; run the suite with "
            "the pandas engine, or move them to a suite of their own")


def run_checks_spark(df, suite: SuiteSpec, *, dataset: DatasetRef,
                     data_docs_dir: Path | None = None, progress=None) -> CheckReport:
    """Validate the Spark DataFrame ``df`` against ``suite``; one result per rule, in order."""
    from . import _gx

    refuse_pandas_only(suite)
    if not suite.expectations:
        raise suite.error("expectations", "the suite has no rules")
    check_columns(suite, list(df.columns), dataset=f"{dataset.name}@{dataset.version}")
    note = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    note(0.1, f"validating {len(suite.expectations)} rules on Spark")
    results = _gx.run_expectations(df, suite.expectations, suite_name=suite.name,
                                   id_column=suite.id_column, data_docs_dir=data_docs_dir,
                                   datasource="spark")
    note(1.0, "done")
    ordered = [results[r.index] for r in suite.expectations]
    return CheckReport(success=all(r.success for r in ordered), suite=suite.name,
                       dataset=dataset, results=ordered, suite_path=suite.path,
                       duration_s=time.perf_counter() - t0, engine="spark")


def check_dataset_spark(project, data: str, suite_path: str | os.PathLike, *,
                        master: str | None = None, data_docs: bool = False,
                        progress=None) -> tuple[CheckReport, int]:
    """Check a Parquet/CSV path or folder (or a stored dataset) on Spark; record the run."""
    from ..core.engines import spark_session
    from ..data import get_version, read_spark, spark_stats
    from ._history import record_check

    suite = load_suite(suite_path)
    refuse_pandas_only(suite)
    spark = spark_session(master)
    path = Path(data).expanduser()
    dv = None
    if path.exists():
        df = read_spark(spark, path)
        digest, rows, _ = spark_stats(df)
        ref = DatasetRef(name=str(path.resolve()), version=digest[:12], rows=rows)
    else:
        dv = get_version(project, data)
        df = read_spark(spark, project.state / dv.path)
        digest, rows = dv.content_hash, dv.rows
        ref = DatasetRef(name=dv.name, version=dv.version, rows=rows)
    if rows == 0:
        raise DataError(f"{data}: the dataset is empty (0 rows); nothing to check")
    check_columns(suite, list(df.columns), dataset=f"{ref.name}@{ref.version}")
    extra = {"spark_master": spark.sparkContext.master}
    report, run_id = record_check(
        project, suite, suite_path, data=data, ref=ref, digest=digest, dv=dv, engine="spark",
        extra_config=extra, data_docs=data_docs,
        run=lambda docs_dir: run_checks_spark(df, suite, dataset=ref, data_docs_dir=docs_dir,
                                              progress=progress))
    return report, run_id
