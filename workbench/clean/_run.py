"""Clean a stored dataset into a new version, on either engine (one entry point).

``engine="pandas"`` applies the steps of :mod:`._steps` to one frame; ``engine="spark"``
runs the row-local steps on Spark (:mod:`._spark`). Both record a ``clean`` run and link
the new version to its parent, which is never modified.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..checks import load_suite
from ..core.errors import DataError
from ._steps import CleanReport, clean_frame, validate_steps


def clean_dataset(project, data: str, rules: str | os.PathLike, *, name: str | None = None,
                  progress: Callable[[int, int, str], None] | None = None,
                  engine: str = "pandas", spark_master: str | None = None) -> CleanReport:
    """Clean a stored dataset (or a file, imported first) into a new version.

    Returns a :class:`CleanReport`; the run is recorded (kind ``clean``) and the new
    version gets a lineage edge ``clean`` to its parent. The parent is not touched.
    ``engine="spark"`` runs the row-local rules on Spark (see :mod:`workbench.clean`)
    and stores the result as partitioned Parquet.
    """
    from ..core.engines import check_engine
    from ..core.store import Store
    from ..data import check_name, default_name, resolve_data, save_version

    spark = check_engine(engine) == "spark"
    suite = load_suite(rules, check_types=False, require_expectations=False)
    validate_steps(suite)
    if spark:
        from ._spark import clean_spark, refuse_pandas_only, spark_parent

        refuse_pandas_only(suite)
        dv, df = spark_parent(project, data, name=name, master=spark_master)
    else:
        dv, frame, label = resolve_data(project, data)
        if dv is None:
            dv, _ = save_version(project, frame, name=check_name(name or default_name(label)),
                                 source=label)
    target = check_name(name or dv.name)
    store = Store.for_project(project)
    config = {"data": dv.ref, "rules": str(rules), "name": target}
    if spark:
        config.update(engine="spark", spark_master=spark_master)
    with store.record("clean", name=target, config=config,
                      input_hashes={"dataset": dv.content_hash, "rules": suite.digest}) as out:
        source = f"clean:{dv.ref}:{rules}"
        if spark:
            new, created, reports = clean_spark(project, df, suite, parent=dv, name=target,
                                                source=source, progress=progress)
            rows_after = reports[-1].rows_after
        else:
            cleaned, reports = clean_frame(frame, suite, progress=progress)
            if len(cleaned) == 0:
                last = next(r for r in reports if r.rows_after == 0)
                raise DataError(f"{suite.path}: clean[{last.index}] ({last.type}) removed "
                                "every remaining row; nothing would be left")
            new, created = save_version(project, cleaned, name=target, source=source,
                                        parent=dv, relation="clean")
            rows_after = len(cleaned)
        report = CleanReport(parent=dv.ref, result=new.ref, created=created,
                             rows_before=dv.rows, rows_after=rows_after,
                             rules=str(rules), steps=reports, run_id=out["run_id"],
                             engine=engine)
        out.update(report.to_dict())
    store.add_lineage(("run", report.run_id), ("dataset", new.ref), "clean")
    return report


__all__ = ["clean_dataset"]
