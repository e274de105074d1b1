"""`workbench check DATA --suite FILE` and `workbench check history`."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup


class _DefaultRunGroup(TyperGroup):
    """`workbench check DATA ...` means `workbench check run DATA ...`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _progress_bar():
    from tqdm import tqdm

    from ..core.output import show_progress

    bar = tqdm(total=100, desc="check", unit="%", disable=not show_progress(), leave=False)

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 100)
        bar.set_postfix_str(message[:40])
        bar.refresh()

    return bar, update


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while one check runs.

    Start-up imports (pandas, SQLAlchemy, Great Expectations) create a couple of million
    long-lived objects and almost no garbage, yet the collector walks them hundreds of
    times during the run, once more when it is switched back on and again at interpreter
    exit. Reference counting still frees the frames and results as usual; at the end,
    what exists is frozen (kept out of later collections), as it lives until exit.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def run(
    data: Annotated[str, typer.Argument(help="A stored dataset NAME[@VERSION] or a file path.")],
    suite: Annotated[str, typer.Option("--suite", "-s", help="Suite YAML (checks/NAME.yaml, or NAME).")],
    json_out: Annotated[Optional[str], typer.Option("--json", metavar="PATH", help="Write the result as JSON to PATH ('-' for stdout).")] = None,
    html_out: Annotated[Optional[str], typer.Option("--html", metavar="PATH", help="Write the HTML report to PATH (default: reports/check-RUN-TIME.html).")] = None,
    data_docs: Annotated[Optional[bool], typer.Option("--data-docs/--no-data-docs", help="Also build Great Expectations Data Docs in the state folder (default: only with --html).", show_default=False)] = None,
    engine: Annotated[str, typer.Option(help="pandas, or spark: Great Expectations' Spark engine on a Parquet/CSV path or folder (Great Expectations rules only).")] = "pandas",
    spark_master: Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL (default local[*]).")] = None,
) -> None:
    """Check DATA against a suite. Exit 0 if every rule passes, 1 if any fails, 2 on bad input."""
    with _collector_paused():
        _run(data, suite, json_out=json_out, html_out=html_out, data_docs=data_docs,
             engine=engine, spark_master=spark_master)


def _run(data: str, suite: str, *, json_out: str | None, html_out: str | None,
         data_docs: bool | None, engine: str, spark_master: str | None) -> None:
    from ..checks import check_counts, check_dataset, failing_rows, find_suite
    from ..core.engines import check_engine
    from ..core.output import write_json
    from ..reports import write_check_html
    from ._output import echo, get_project

    project = get_project()
    check_engine(engine)
    if engine == "pandas":
        from ..checks._gx import pandas_only

        pandas_only()  # this process never validates on Spark: GE imports without pyspark
    # Data Docs cost a Checkpoint and a site build: only when asked for, or when the
    # HTML report asked for by --html can link to them
    data_docs = data_docs if data_docs is not None else html_out is not None
    bar, progress = _progress_bar()
    try:
        report, run_id = check_dataset(project, data, find_suite(project, suite),
                                       data_docs=data_docs, progress=progress,
                                       engine=engine, spark_master=spark_master)
    finally:
        bar.close()
    docs = str(project.state / "data_docs" / "index.html") if data_docs else None
    html = write_check_html(project, report, html_out, run_id=run_id, data_docs=docs)
    ds = report.dataset
    counts = check_counts(report)
    echo(f"{'PASSED' if report.success else 'FAILED'}: suite {report.suite} on "
         f"{ds.name}@{ds.version} ({ds.rows} rows): "
         f"{counts.passed}/{counts.rules} rules passed (run {run_id})")
    for i, r in enumerate(report.results, 1):
        mark = "ok  " if r.success else "FAIL"
        detail = f"{r.unexpected_count} unexpected ({r.unexpected_percent:.2f}%)"
        if not r.success and r.examples:
            if rows := failing_rows(r):
                detail += f": {rows}"
            elif r.error:
                detail += f": {r.error}"
        if gap := _gap_text(r.observed):
            detail += f"; {gap}"
        echo(f"  {mark} {i:>2}. {r.label}: {detail}")
    echo(f"report: {html}")
    write_json(json_out, {"run_id": run_id, **report.to_dict()})
    if not report.success:
        raise typer.Exit(1)


def _gap_text(observed) -> str | None:
    """An outcome-association rule's finding in one clause: the two groups' means, the gap
    with its interval, and the limit (``None`` for any other rule)."""
    if not isinstance(observed, dict) or observed.get("gap") is None or "lowest" not in observed:
        return None
    means = ", ".join(f"{name} {g['mean']:+.3f} ({g['rows']} rows)"
                      for name, g in observed["groups"].items() if g.get("compared"))
    lo, hi, ci = observed["lowest"], observed["highest"], observed["gap_ci"]
    return (f"mean {observed['outcome']}: {means}; gap {hi} - {lo} {observed['gap']:.3f} "
            f"[{ci[0]:.3f}, {ci[1]:.3f}], at most {observed['max_gap']:g} allowed")


def history(
    suite: Annotated[Optional[str], typer.Option("--suite", "-s", help="Only runs of this suite (name or file).")] = None,
    limit: Annotated[int, typer.Option(help="How many runs (newest first).")] = 20,
    json_out: Annotated[Optional[str], typer.Option("--json", metavar="PATH", help="Write the history as JSON to PATH ('-' for stdout).")] = None,
) -> None:
    """List past check runs: when, which suite and data, passed or failed, which rules failed."""
    from ..checks import check_history
    from ..core.output import write_json
    from ._output import echo, get_project, table

    entries = check_history(get_project(), suite=suite, limit=limit)
    if entries:
        echo(table([[e.run_id, e.started.strftime("%Y-%m-%d %H:%M:%S"), e.suite or "",
                      e.dataset or "",
                      {True: "passed", False: "FAILED",
                       None: "cancelled" if e.status == "cancelled"
                       else f"error ({e.status})"}[e.success],
                      len(e.failed_rules) if e.success is not None else "",
                      f"schedule {e.scheduled_job}" if e.scheduled_job else "manual"]
                     for e in entries],
                    ["run", "started (UTC)", "suite", "dataset", "result", "failed rules",
                     "trigger"]))
    else:
        echo("no check runs yet" + (f" for suite '{suite}'" if suite else "")
             + ": run 'workbench check DATA --suite checks/NAME.yaml'")
    write_json(json_out, [e.to_dict() for e in entries])


def register(app: typer.Typer) -> None:
    check_app = typer.Typer(cls=_DefaultRunGroup, no_args_is_help=True,
                            help="Check data against a suite (`check DATA --suite FILE`), "
                                 "or list past checks (`check history`).")
    check_app.command("run")(run)
    check_app.command("history")(history)
    app.add_typer(check_app, name="check")
