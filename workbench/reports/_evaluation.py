"""HTML reports of evaluations and comparisons."""

from __future__ import annotations

from pathlib import Path

from ..evaluation import MIN_SLICE, CompareReport, EvalReport, primary_metric
from ..review import human_review
from ._render import render, write_report


def render_html(report: EvalReport, *, title: str | None = None) -> str:
    """The self-contained HTML report of an evaluation."""
    from ..core.charts import svg_metric_charts

    names = list(report.metrics)
    charts = [svg_metric_charts(names, [report.metrics[m] for m in names],
                                [tuple(report.ci.get(m, (report.metrics[m],) * 2))
                                 for m in names],
                                xlabel="95% bootstrap interval")]
    return render("evaluate.html", title=title or f"Evaluation: {report.model or report.source}",
                  subtitle=report.source, report=report, names=names, charts=charts,
                  worst=report.worst(), key=primary_metric(report.records),
                  min_slice=MIN_SLICE)


def render_compare_html(report: CompareReport, *, title: str | None = None) -> str:
    """The self-contained HTML report of a comparison (side by side)."""
    from ..core.charts import svg_metric_charts

    names = list(report.differences)
    chart = svg_metric_charts(names, [report.differences[m]["diff"] for m in names],
                              [tuple(report.differences[m]["ci"]) for m in names],
                              title="B - A with 95% paired bootstrap interval",
                              xlabel="difference")
    from ..evaluation import change_word

    words = {m: change_word(report.differences[m], report.correction) for m in names}
    return render("evaluate_compare.html", title=title or "Comparison", report=report,
                  names=names, chart=chart, subtitle=f"A: {report.a}  B: {report.b}",
                  verdicts=report.verdicts, words=words)


def write_html(project, report: EvalReport, out=None) -> Path:
    """Save the evaluation's HTML report (default under ``reports/``); list it in the store."""

    return write_report(project, render_html(report), out, kind="evaluate",
                        title=f"Evaluation: {report.model or report.source}",
                        signature_text=report.signature, run_id=report.run_id)


def write_compare_html(project, report: CompareReport, out=None) -> Path:
    """Save the comparison's HTML report (default under ``reports/``); list it in the store.

    The human verdicts recorded on the two runs (Review) are attached to ``report`` first.
    """
    if report.verdicts is None:
        report.verdicts = human_review(project, report.a_run, report.b_run)

    return write_report(project, render_compare_html(report), out, kind="compare",
                        title=f"{report.a} vs {report.b}", signature_text=report.signature,
                        run_id=report.run_id,
                        runs=(report.a_run or report.a, report.b_run or report.b))


__all__ = ["render_compare_html", "render_html", "write_compare_html", "write_html"]
