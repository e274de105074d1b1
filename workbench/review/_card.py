"""The fine-tuned model's card, brought up to date with what the store knows about it.

The card training wrote (``README.md`` in the model folder) gets Hugging Face
``model-index`` metadata with the evaluations of that run (the newest per data), and a
"Bias, Risks, and Limitations" section with the latest verdict per probe set and scorer,
and the sign-offs of the before/after reports that cover the run's probes. Refreshed when
a sign-off is recorded, and by ``workbench model-card run:ID``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import NotFoundError

_VERDICT_WORDS = {
    "flagged": "**flagged**: at least one difference between groups is larger than the "
               "minimum effect and significant",
    "cleared": "**cleared**: every difference between groups was shown to lie within the "
               "equivalence margin",
    "inconclusive": "**inconclusive**: the data cannot tell either way (not evidence of "
                    "fairness)",
}


def _children(store, run_id: int, relation: str) -> list:
    """Finished runs made from ``run_id`` by ``relation``, oldest first."""
    ids = sorted({int(c["id"]) for c in store.lineage(("run", run_id))["children"]
                  if c["type"] == "run" and c["relation"] == relation})
    runs = []
    for i in ids:
        try:
            run = store.get_run(i)
        except NotFoundError:
            continue
        if run.status == "succeeded":
            runs.append(run)
    return runs


def _model_index(name: str, task: str, evals: list) -> list[dict]:
    latest: dict[str, Any] = {}
    for run in evals:  # oldest first: a later evaluation on the same data replaces it
        latest[run.outputs.get("source") or run.config.get("data") or f"run:{run.id}"] = run
    results = []
    for data, run in latest.items():
        res = run.outputs.get("result") or {}
        metrics = [{"type": k, "value": round(float(v), 6), "name": k}
                   for k, v in (res.get("metrics") or {}).items()]
        if not metrics:
            continue
        hf_task = "text-classification" if (res.get("task") == "classification") \
            else ("text2text-generation" if task == "seq2seq" else "text-generation")
        results.append({"task": {"type": hf_task},
                        "dataset": {"name": str(data), "type": "workbench",
                                    "split": str(data).rsplit(":", 1)[-1]
                                    if str(data).startswith("split:") else "n/a"},
                        "metrics": metrics})
    return [{"name": name, "results": results}] if results else []


def _risk_lines(evals: list, probes: list, signoffs: list) -> list[str]:
    from ..train import md_text

    lines = []
    latest: dict[tuple, Any] = {}
    for run in probes:
        res = run.outputs.get("result") or {}
        ps = res.get("probe_set") or {}
        latest[(ps.get("name"), ps.get("version"), res.get("scorer"))] = (run, res)
    if latest:
        lines += ["Latest bias probe verdicts (newest run per probe set and scorer):", ""]
        for (name, version, scorer), (run, res) in latest.items():
            verdict = res.get("verdict")
            words = _VERDICT_WORDS.get(verdict, "no verdict (a run made before verdicts "
                                                "existed)")
            lines.append(f"- {md_text(name)} v{md_text(version)} ({md_text(scorer)}), "
                         f"run:{run.id}, {res.get('n_contexts', '?')} contexts: {words}")
            lines += [f"  - warning: {md_text(w)}" for w in (res.get("warnings") or [])[:3]]
        lines.append("")
    else:
        lines += ["No bias probe of this model is recorded yet: nothing is known about how "
                  "it treats groups of people.", ""]
    leaks = [(run, (run.outputs.get("result") or {}).get("leakage")) for run in evals]
    for run, leak in leaks:
        if leak and leak.get("found"):
            lines.append(f"- evaluation run:{run.id}: {md_text(leak['message'])}")
    if any(leak and leak.get("found") for _r, leak in leaks):
        lines.append("")
    if signoffs:
        lines += ["Sign-off of the before/after reports covering these probes (newest first):",
                  ""]
        for s in signoffs:
            lines.append(f"- **{md_text(s.decision)}** by {md_text(s.reviewer)} on "
                         f"{s.created:%Y-%m-%d %H:%M} UTC (report {s.report_id}, runs "
                         f"{', '.join(f'run:{r}' for r in s.runs) or 'n/a'})"
                         + (f": {md_text(s.comment)}" if s.comment else ""))
    else:
        lines.append("No reviewer has signed off a before/after report of this model yet.")
    lines += ["", "Verdicts hold for the probe sets, phrasings and scorers named above only; "
              "scorers react to identity terms themselves (see each report's scorer offsets)."]
    return lines


def refresh_model_card(project, train_run: int | str) -> list[Path]:
    """Rewrite the cards of training run ``train_run`` (``12`` or ``run:12``) from the store.

    Returns the cards written (the model folder's, and the merged folder's for LoRA).
    """
    from ..core.store import Store
    from ..train import update_model_card
    from ._signoff import signoffs as all_signoffs

    store = Store.for_project(project)
    run = store.get_run(int(str(train_run).strip().removeprefix("run:")), kind="train")
    card = run.outputs.get("model_card")
    if not card:
        raise NotFoundError(f"run {run.id}: the training did not write a model card "
                            f"({run.status})")
    cards = [Path(card)] + ([Path(run.outputs["merged"]) / "README.md"]
                            if run.outputs.get("merged") else [])
    evals = _children(store, run.id, "evaluated")
    probes = _children(store, run.id, "probed")
    probe_ids = {p.id for p in probes}
    signed = [s for s in all_signoffs(project) if probe_ids & set(s.runs)]
    index = _model_index(run.name or f"run:{run.id}", run.config.get("task", "causal-lm"),
                         evals)
    risks = _risk_lines(evals, probes, signed)
    written = []
    for path in cards:
        if path.is_file():
            update_model_card(path, model_index=index, risks=risks)
            written.append(path)
    return written


def refresh_model_cards(project, runs) -> list[Path]:
    """Refresh the cards of the training runs behind probe or evaluation ``runs``."""
    from ..core.store import Store
    from ..models import trained_run_id

    store = Store.for_project(project)
    trained = set()
    for rid in runs:
        try:
            tid = trained_run_id(store.get_run(int(rid)).config.get("model"))
        except NotFoundError:
            continue
        if tid is not None:
            trained.add(tid)
    written = []
    for t in sorted(trained):
        try:
            written += refresh_model_card(project, t)
        except NotFoundError:
            continue  # a run whose training wrote no card (failed, or from elsewhere)
    return written


__all__ = ["refresh_model_card", "refresh_model_cards"]
