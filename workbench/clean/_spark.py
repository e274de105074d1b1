"""Cleaning rules on Spark: ``clean DATA --rules FILE --engine spark``.

The row-local rules run on the executors, one partition at a time: ``normalize_text``
and ``mask_pii`` call the pandas engine's own functions (:func:`tidy_text`,
:func:`mask_pii`, Luhn and digit-count checks included) in pandas UDFs, ``drop_nulls``,
``drop_duplicates`` and ``filter_length`` are Spark SQL (word counts use Python's
``str.split`` in a pandas UDF, as the pandas engine does). ``drop_duplicates`` keeps the
first row of each key in Spark's read order (``monotonically_increasing_id``), which for
a stored pandas version is its row order. Rules that need a whole column in one process
(``drop_near_duplicates``, ``drop_unexpected_rows``) are refused by name before Spark
starts. The result is stored as partitioned Parquet named by the Spark content hash.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..checks import SuiteSpec
from ..checks._report import EXAMPLES
from ..checks._text import mask_pii, tidy_text
from ..core.errors import ConfigError, DataError
from ..core.store import DatasetVersion
from ._steps import (
    STEPS,
    CleanStepReport,
    ColumnsArgs,
    DuplicatesArgs,
    LengthArgs,
    NormalizeArgs,
    PiiArgs,
    validate_steps,
)

#: the cleaning rules the Spark engine runs; the others are pandas-only
SPARK_STEPS = ("normalize_text", "drop_nulls", "drop_duplicates", "filter_length", "mask_pii")
_POS = "_wb_row"


def pandas_only_steps(suite: SuiteSpec) -> list:
    """The suite's ``clean:`` steps that the Spark engine cannot run."""
    return [s for s in suite.clean if s.type in STEPS
            and (s.type not in SPARK_STEPS or s.kwargs.get("turns") is not None)]


def refuse_pandas_only(suite: SuiteSpec) -> None:
    """Raise one line naming the pandas-only cleaning rules of ``suite``, if any."""
    steps = pandas_only_steps(suite)
    if steps:
        named = ", ".join(f"clean[{s.index}] {s.type}" for s in steps)
        raise ConfigError(
            f"{suite.path or suite.name}: the Spark engine runs the cleaning rules "
            f"{', '.join(SPARK_STEPS)}; these need the whole column in one process and are "
            f"pandas-only: {named}; run them with the pandas engine, or move them to a rules "
            "file of their own")


def _c(name: str):
    from pyspark.sql import functions as F

    return F.col(f"`{name}`")


def _text_udf(fn: Callable[[str], Any], returns: str = "string"):
    from pyspark.sql.functions import pandas_udf

    def apply(s: pd.Series) -> pd.Series:
        return s.map(lambda v: fn(v) if isinstance(v, str) else None)

    return pandas_udf(apply, returns)


def _words(text: str) -> int:
    return len(text.split())


class _Cleaner:
    """Applies steps to a Spark DataFrame carrying a row-order column ``_wb_row``."""

    def __init__(self, df, id_column: str | None):
        self.id_column = id_column if id_column in df.columns else None
        self.columns = list(df.columns)
        self.cached: list = []

    def label(self, row):
        return row[self.id_column] if self.id_column else row[_POS]

    def keep(self, df):
        df = df.persist()
        self.cached.append(df)
        return df

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()

    # a step returns (new df, rows removed, rows changed, examples)
    def map_columns(self, df, cols: list[str], udf, *, before: bool):
        from pyspark.sql import functions as F

        new = {c: f"_wb_new{i}" for i, c in enumerate(cols)}
        if not cols:
            return df, 0, 0, []
        diff = functools.reduce(operator.or_, [~_c(c).eqNullSafe(F.col(new[c])) for c in cols])
        wide = self.keep(df.select("*", *[udf(_c(c)).alias(new[c]) for c in cols])
                         .withColumn("_wb_changed", diff))
        changed = wide.filter("_wb_changed").count()
        examples: list[dict] = []
        for r in wide.filter("_wb_changed").orderBy(_POS).limit(EXAMPLES).collect():
            for c in cols:
                if r[c] != r[new[c]] and len(examples) < EXAMPLES:
                    ex = {"row": self.label(r), "column": c}
                    if before:
                        ex["before"] = r[c]
                    examples.append({**ex, "after": r[new[c]]})
        out = wide.select(*[F.col(new[c]).alias(c) if c in new else _c(c) for c in df.columns])
        return out, 0, changed, examples

    def drop_where(self, df, cond, describe: Callable[[Any], dict], extra: dict | None = None):
        from pyspark.sql import functions as F

        flagged = df
        for k, v in (extra or {}).items():
            flagged = flagged.withColumn(k, v)
        flagged = self.keep(flagged.withColumn("_wb_drop", F.coalesce(cond, F.lit(False))))
        removed = flagged.filter("_wb_drop").count()
        examples = [{"row": self.label(r), **describe(r)} for r in
                    flagged.filter("_wb_drop").orderBy(_POS).limit(EXAMPLES).collect()]
        out = flagged.filter(~F.col("_wb_drop")).select(*[_c(c) for c in df.columns])
        return out, removed, 0, examples

    def normalize_text(self, df, a: NormalizeArgs):
        cols = a.columns or [c for c, t in df.dtypes if t == "string" and c != _POS]
        return self.map_columns(df, cols, _text_udf(functools.partial(tidy_text, form=a.form)),
                                before=True)

    def mask_pii(self, df, a: PiiArgs):
        fn = functools.partial(mask_pii, kinds=tuple(a.kinds))
        # the example shows the masked text only: never copy PII around
        return self.map_columns(df, a.columns, _text_udf(fn), before=False)

    def drop_nulls(self, df, a: ColumnsArgs):
        from pyspark.sql import functions as F

        types = dict(df.dtypes)

        def isna(c):
            return (_c(c).isNull() | F.isnan(_c(c))) if types[c] in ("double", "float") \
                else _c(c).isNull()

        def nulls(r):
            return {"null": [c for c in a.columns
                             if r[c] is None or (isinstance(r[c], float) and r[c] != r[c])]}

        return self.drop_where(df, functools.reduce(operator.or_, map(isna, a.columns)), nulls)

    def drop_duplicates(self, df, a: DuplicatesArgs):
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        cols = a.columns or [c for c in df.columns if c != _POS]
        w = Window.partitionBy(*[_c(c) for c in cols]).orderBy(_POS)
        first = self.id_column or _POS
        return self.drop_where(df, F.col(_POS) != F.col("_wb_first"),
                               lambda r: {"duplicate_of": r["_wb_first_label"]},
                               {"_wb_first": F.first(_POS).over(w),
                                "_wb_first_label": F.first(_c(first)).over(w)})

    def filter_length(self, df, a: LengthArgs):
        from pyspark.sql import functions as F

        words, chars = F.col("_wb_words"), F.col("_wb_chars")
        conds = [cond for limit, cond in (
            (a.min_words, words < F.lit(a.min_words)), (a.max_words, words > F.lit(a.max_words)),
            (a.min_chars, chars < F.lit(a.min_chars)), (a.max_chars, chars > F.lit(a.max_chars)))
            if limit is not None]
        return self.drop_where(df, functools.reduce(operator.or_, conds),
                               lambda r: {"words": r["_wb_words"], "chars": r["_wb_chars"]},
                               {"_wb_words": _text_udf(_words, "long")(_c(a.column)),
                                "_wb_chars": F.length(_c(a.column))})


def spark_parent(project, data: str, *, name: str | None, master: str | None):
    """``(version, Spark DataFrame)`` of a stored ``NAME[@VERSION]`` or a Parquet/CSV path.

    A path is imported first (``data import --engine spark``), as the pandas engine does.
    """
    from ..core.engines import spark_session
    from ..data import get_version, import_spark, read_spark

    spark = spark_session(master)
    if Path(data).expanduser().exists():
        dv, _ = import_spark(project, data, name=name, master=master)
    else:
        dv = get_version(project, data)
    return dv, read_spark(spark, project.state / dv.path)


def clean_spark(project, df, suite: SuiteSpec, *, parent: DatasetVersion, name: str,
                source: str, progress: Callable[[int, int, str], None] | None = None
                ) -> tuple[DatasetVersion, bool, list[CleanStepReport]]:
    """Apply the suite's ``clean:`` steps to ``df`` on Spark and store the result.

    Returns ``(new version, created, per-step summary)``; the new version gets a lineage
    edge ``clean`` to ``parent`` when it is new.
    """
    from pyspark.sql import functions as F

    from ..core.store import Store
    from ..data import store_spark_version

    refuse_pandas_only(suite)
    steps = validate_steps(suite, list(df.columns))
    if _POS in df.columns:
        raise DataError(f"{parent.ref}: column '{_POS}' is reserved by the Spark engine")
    cleaner = _Cleaner(df, suite.id_column)
    current = df.withColumn(_POS, F.monotonically_increasing_id())
    rows = parent.rows
    reports = []
    try:
        for k, (step, args) in enumerate(steps):
            if progress:
                progress(k, len(steps), step.type)
            current, removed, changed, examples = getattr(cleaner, step.type)(current, args)
            reports.append(CleanStepReport(index=step.index, type=step.type, rows_before=rows,
                                           rows_after=rows - removed, rows_removed=removed,
                                           rows_changed=changed, examples=examples))
            rows -= removed
            if rows == 0:
                raise DataError(f"{suite.path}: clean[{step.index}] ({step.type}) removed "
                                "every remaining row; nothing would be left")
        new, created = store_spark_version(project, current.drop(_POS), name=name,
                                           source=source)
    finally:
        cleaner.release()
    if created:
        Store.for_project(project).add_lineage(("dataset", parent.ref), ("dataset", new.ref),
                                               "clean")
    if progress:
        progress(len(steps), len(steps), "done")
    return new, created, reports


__all__ = ["SPARK_STEPS", "clean_spark", "pandas_only_steps", "refuse_pandas_only",
           "spark_parent"]
