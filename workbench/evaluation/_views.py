"""What a front end shows of evaluations: run labels naming model, data and generation
settings, the metric choices, default slices, and the result tables."""

from __future__ import annotations

from typing import Any

from ..core.errors import ConfigError
from ..core.output import fmt_p

METRIC_CHOICES = ("accuracy", "bleu", "rouge", "sentiment")
"""The metric families a generation evaluation can compute (BLEU is in points, 0-100;
sentiment is the VADER compound of each answer itself, -1 to 1)."""
METRIC_DEFAULTS = ("bleu", "rouge")
"""What is asked for unless told otherwise: exact-match accuracy of free text only on request."""

HEADLINE_ORDER = ("rougeL", "accuracy", "bleu")


def generation_text(gen: dict | None) -> str | None:
    """``chat · greedy · 48 tokens · cpu-fp32``: a run's generation settings in a few
    words, with the device and precision it ran on (runs recorded before that have none).

    >>> generation_text({"chat": True, "max_new_tokens": 48, "device": "cpu-fp32"})
    'chat · greedy · 48 tokens · cpu-fp32'
    """
    if not gen:
        return None
    mode = (f"sampled t={gen.get('temperature', 1.0):g} p={gen.get('top_p', 1.0):g}"
            if gen.get("do_sample") else "greedy")
    return " · ".join(["chat" if gen.get("chat") else "completion", mode,
                       f"{gen.get('max_new_tokens')} tokens",
                       *([gen["device"]] if gen.get("device") else [])])


def eval_run_label(run) -> str:
    """``run 12: run:4 on split:3:test · chat · greedy · 48 tokens``, or for scored
    predictions ``run 12: predictions base.csv``."""
    cfg = run.config or {}
    if cfg.get("model"):
        turns = cfg.get("messages_col")  # conversations: rendered with the chat template
        gen = generation_text({**cfg["generation"], "chat": True} if turns and
                              cfg.get("generation") else cfg.get("generation"))
        return (f"run {run.id}: {cfg['model']} on {cfg.get('data')}"
                + (f" (last turn of {turns})" if turns else "") + (f" · {gen}" if gen else ""))
    return f"run {run.id}: {run.name or 'predictions'}"


def eval_data_choices(project) -> list[str]:
    """What an evaluation can run on: each split's test and validation parts, then the
    stored datasets (newest first)."""
    from ..core.store import Store
    from ..splits import list_splits

    parts = [f"split:{r.id}:{part}" for r in list_splits(project)
             for part in ("test", "validation")
             if part in r.outputs.get("manifest", {}).get("counts", {"test": 1})]
    return parts + [v.ref for v in Store.for_project(project).list_datasets()]


def default_slices(project, data: str, columns: list[str]) -> list[str]:
    """The columns to slice by unless told otherwise: the label of the split ``data``
    comes from (``split:ID:PART``), when the data has that column."""
    from ..core.errors import WorkbenchError
    from ..splits import get_split_run

    if not str(data).startswith("split:"):
        return []
    try:
        run = get_split_run(project, str(data))
    except WorkbenchError:
        return []
    label = (run.config or {}).get("label")
    return [label] if label in columns else []


def eval_columns(project, data: str) -> tuple[list[str], list[str]]:
    """The columns of the evaluation data ``data`` and, among them, the columns of
    conversations (evaluated on their last assistant turn)."""
    from ..data import is_conversation_column
    from ._evaluate import load_eval_data

    frame = load_eval_data(project, data)[0]
    cols = [str(c) for c in frame.columns]
    return cols, [c for c in cols if is_conversation_column(frame[c])]


def classifier_columns(project, model: str) -> dict[str, str] | None:
    """For a classification model, the columns it was trained on (``{"text": ...,
    "label": ...}``, empty when unknown); None for a model that writes text.

    Read from the training run of ``run:ID`` or a folder's ``config.json``: nothing is
    loaded or prepared, so a page can ask while the user is still choosing.
    """
    from pathlib import Path

    from ..core.errors import WorkbenchError
    from ..core.store import Store
    from ..models import model_task, parse_model_spec

    try:
        spec = parse_model_spec(model)
    except WorkbenchError:
        return None
    if spec.run_id is not None:
        try:
            cfg = Store.for_project(project).get_run(spec.run_id).config or {}
        except WorkbenchError:
            return None
        if cfg.get("task") != "classification":
            return None
        data = cfg.get("data") or {}
        return {k: str(data[k]) for k in ("text", "label") if data.get(k)}
    if spec.kind == "folder" and (Path(spec.name).expanduser() / "config.json").is_file():
        return {} if model_task(Path(spec.name).expanduser()) == "classification" else None
    return None


def confusion_rows(conf: dict) -> list[dict]:
    """The confusion matrix as rows: one per true label, one column per predicted label."""
    return [{"true \\ predicted": lab, **{str(p): n for p, n in zip(conf["labels"], row)}}
            for lab, row in zip(conf["labels"], conf["matrix"])]


def fairness_group_rows(fair: dict) -> list[dict]:
    """Each group's count and rates (selection rate, true and false positive rates...) with
    their 95% intervals."""
    rows = []
    for g in fair["groups"]:
        row: dict[str, Any] = {"group": g, "n": fair["counts"][g]}
        for m, by in fair["by_group"].items():
            lo, hi = fair["by_group_ci"][m][g]
            row.update({m: by[g], f"{m} 95% low": lo, f"{m} 95% high": hi})
        rows.append(row)
    return rows


def fairness_difference_rows(fair: dict) -> list[dict]:
    """Parity and equalized-odds differences: value, interval, both p-values, verdict."""
    return [{"difference": k.replace("_", " "), "value": d["value"], "95% low": d["ci"][0],
             "95% high": d["ci"][1], "p (differ)": fmt_p(d["p_value"]),
             "p (within margin)": fmt_p(d["p_equivalent"]), "verdict": d["verdict"]}
            for k, d in fair["differences"].items()]


def fairness_message(fair: dict) -> tuple[str, str]:
    """(tone, text) of a classifier's fairness verdict by group."""
    tone = {"flagged": "error", "cleared": "success"}.get(fair["verdict"], "info")
    what = {"flagged": f"a difference between groups is significant and at least "
                       f"{fair['min_effect']:g}",
            "cleared": f"every difference is shown to be within ±{fair['margin']:g}",
            "inconclusive": "the data cannot decide either way (too few examples for "
                            "the intervals to settle it)"}
    return tone, (f"Fairness by {fair['group_col']} (positive label "
                  f"'{fair['positive_label']}'): {fair['verdict']}: "
                  f"{what.get(fair['verdict'], fair['verdict'])}.")


def metric_rows(metrics: dict, ci: dict) -> list[dict]:
    """One row per metric: value and its 95% interval."""
    return [{"metric": m, "value": v, "95% low": (ci.get(m) or [None, None])[0],
             "95% high": (ci.get(m) or [None, None])[1]} for m, v in metrics.items()]


def headline_metric(metrics: dict) -> str:
    """The metric a chart leads with: ROUGE-L, else accuracy, else BLEU, else the first."""
    return next((m for m in HEADLINE_ORDER if m in metrics), next(iter(metrics)))


def slice_rows(rep, metric: str) -> list[dict]:
    """Each slice's ``metric`` with its interval (for a chart)."""
    return [{"label": k, "value": s["metrics"][metric], "low": rep.slice_ci[k][metric][0],
             "high": rep.slice_ci[k][metric][1], "n": s["n"]}
            for k, s in rep.slices.items() if metric in rep.slice_ci.get(k, {})]


def report_warnings(rep, *, min_slice: int) -> list[str]:
    """The report's warnings, with the "slice too small" ones summarised in one line."""
    small = [w for w in rep.warnings if w.startswith("slice ") and "too few" in w]
    rest = [w for w in rep.warnings if w not in small]
    if small:
        rest.append(f"{len(small)} slices have fewer than {min_slice} examples: too few to say "
                    "anything about them alone; read their intervals, not their values.")
    return rest


def change_word(d, correction: str | None = None) -> str:
    """``B better`` / ``B worse`` when the interval of B - A clears zero, else
    ``no clear change``. ``d`` is the interval or a metric's difference; with a
    ``correction`` its adjusted p-value (below 0.05) decides, and the sign says which way.

    A positive change is "better" because every metric a comparison can hold is
    higher-is-better: exact-match accuracy, BLEU, ROUGE-1/2/L/Lsum (the
    :data:`METRIC_CHOICES` families) and a classifier's accuracy and macro-F1. The
    fairness differences (parity, equalized odds), where lower is better, are worded by
    their own verdicts (widened / narrowed), never by this function.
    """
    if isinstance(d, dict):
        if correction and "p_adjusted" in d:
            if d["p_adjusted"] >= 0.05:
                return "no clear change"
            return "B better" if d["diff"] > 0 else "B worse"
        d = d["ci"]
    return "B better" if d[0] > 0 else "B worse" if d[1] < 0 else "no clear change"


def side_line(side: dict) -> str:
    """One side of a comparison in a line: the evaluation, its model and training run,
    its data, and what the split's leakage check found."""
    parts = [str(side.get("label"))]
    if side.get("model"):
        t = side.get("training_run")
        parts.append(f"model {side['model']}" + (
            f" (trained in run:{t['run_id']}" + (f" on {t['data']}" if t.get("data") else "")
            + ")" if t else ""))
    parts.append(f"data {side.get('data')}")
    leak = side.get("leakage")
    if leak:
        parts.append("LEAKAGE: " + leak["message"] if leak.get("found") else leak["message"])
    return " · ".join(parts)


def difference_rows(cmp) -> list[dict]:
    """One row per metric of a comparison: A, B, B - A with its interval, p (adjusted
    too, with a correction), verdict."""
    corr = getattr(cmp, "correction", None)
    return [{"metric": m, "A": d["a"], "B": d["b"], "B - A": d["diff"], "95% low": d["ci"][0],
             "95% high": d["ci"][1], "p-value": fmt_p(d["p_value"]),
             **({f"p ({corr})": fmt_p(d["p_adjusted"])} if corr else {}),
             "verdict": change_word(d, corr)}
            for m, d in cmp.differences.items()]


def difference_groups(cmp) -> list[list[dict]]:
    """Chart rows of B - A, one list per scale: BLEU (points) apart from the 0-1 metrics."""
    groups = (["bleu"], [m for m in cmp.differences if m != "bleu"])
    out = [[{"label": m, "value": cmp.differences[m]["diff"],
             "low": cmp.differences[m]["ci"][0], "high": cmp.differences[m]["ci"][1]}
            for m in g if m in cmp.differences] for g in groups]
    return [rows for rows in out if rows]


def review_text(hv: dict[str, Any] | None) -> str | None:
    """The human verdicts on a compared pair in one sentence."""
    if not hv:
        return None
    return (f"Human review: {hv['items']} items by {', '.join(hv['reviewers'])}: "
            + ", ".join(f"{hv['labels'][k]} {n}" for k, n in hv["counts"].items()))


def check_two_runs(a, b) -> None:
    """Refuse to compare a run with itself."""
    if str(a).removeprefix("run:") == str(b).removeprefix("run:"):
        raise ConfigError(f"compare: run {a} with itself shows nothing; pick two different "
                          "runs", param="compare")


__all__ = ["METRIC_CHOICES", "METRIC_DEFAULTS", "change_word", "check_two_runs", "classifier_columns",
           "confusion_rows", "default_slices", "eval_columns", "fairness_difference_rows",
           "fairness_group_rows", "fairness_message",
           "difference_groups", "difference_rows", "eval_data_choices", "eval_run_label",
           "generation_text", "headline_metric", "metric_rows", "report_warnings",
           "review_text", "side_line", "slice_rows"]
