"""Evaluate a model on a split or dataset, score predictions made elsewhere, and compare
two evaluations over the same examples (base vs fine-tuned).

Every evaluation is a run of kind ``"evaluate"`` with its per-example records in
``runs/<id>/examples.jsonl`` (``outputs["examples"]``) and the result JSON in
``outputs["result"]``; a comparison is a run of kind ``"compare"``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    WorkbenchError,
    did_you_mean,
)
from ..generation import GenerationSettings
from ..models import trained_run_id
from .metrics import Scores, bootstrap_ci, paired_bootstrap, parse_metrics

#: slices with fewer examples get a warning: their intervals are too wide to say much
MIN_SLICE = 30
WORST = 20
MISSING = "(missing)"


@dataclass
class EvalReport:
    """An evaluation: metrics with intervals, slices and per-example records."""

    n: int
    metrics: dict[str, float]
    ci: dict[str, list[float]]
    slices: dict[str, dict]
    signature: str
    warnings: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    slice_ci: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    empty_predictions: int = 0
    source: str = ""
    model: str | None = None
    run_id: int | None = None
    task: str | None = None          # "classification" for label predictions
    confusion: dict | None = None    # {"labels": [...], "matrix": rows true, columns predicted}
    fairness: dict | None = None     # FairnessReport.to_dict() when a group column was named
    leakage: dict | None = None      # the split's leakage check (see split_leakage)

    def to_dict(self) -> dict[str, Any]:
        """The result JSON (the issue's schema; a classification adds its task, confusion
        matrix and, with a group column, its fairness; a split its leakage check)."""
        out = {"n": self.n, "metrics": self.metrics, "ci": self.ci, "slices": self.slices,
               "signature": self.signature}
        for key in ("task", "confusion", "fairness", "leakage"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def worst(self, k: int = WORST) -> list[dict]:
        """The ``k`` examples with the lowest primary score."""
        key = primary_metric(self.records)
        if key is None:
            return []
        return sorted(self.records, key=lambda r: (r[key], str(r["id"])))[:k]


@dataclass
class CompareReport:
    """``b - a`` for each metric over the examples both evaluations share."""

    a: str
    b: str
    n: int
    differences: dict[str, dict]
    signature: str
    warnings: list[str] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    key: str | None = None
    run_id: int | None = None
    a_run: int | None = None       # the evaluation runs compared (None for a file)
    b_run: int | None = None
    verdicts: dict | None = None   # human review of the two runs, filled by the report writer
    fairness: dict | None = None   # before/after parity differences (with a group column)
    sides: dict | None = None      # {"a": ..., "b": ...}: data, split, model, training run
    correction: str | None = None  # "holm" / "bh": p_adjusted across the metrics

    def to_dict(self) -> dict[str, Any]:
        out = {"a": self.a, "b": self.b, "n": self.n, "metrics": self.differences,
               "signature": self.signature, "warnings": self.warnings,
               "sides": self.sides, "correction": self.correction}
        if self.fairness is not None:
            out["fairness"] = self.fairness
        return out


def primary_metric(*records: Sequence[dict]) -> str | None:
    """The per-example score used to rank examples: rougeL, else accuracy; with several
    sets of records (the two sides of a comparison), one that every set has."""
    firsts = [r[0] if r else {} for r in records]
    return next((k for k in ("rougeL", "accuracy") if all(k in f for f in firsts)), None)


# ----------------------------------------------------------------------------- inputs
def _columns_hint(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns))


def _need_column(frame: pd.DataFrame, col: str, where: str, what: str, param: str) -> None:
    if col not in frame.columns:
        raise ConfigError(f"{where}: no {what} column '{col}'"
                          f"{did_you_mean(col, frame.columns)}; columns: {_columns_hint(frame)}",
                          param=param)


def load_eval_data(project, data: str) -> tuple[pd.DataFrame, str, str, tuple[str, Any] | None]:
    """``split:ID[:PART]`` (default part test), a stored ``NAME[@VERSION]`` or a file.

    Returns ``(frame, label, content hash, lineage parent or None)``.
    """
    from ..data import content_hash, resolve_data

    data = (data or "").strip()
    if not data:
        raise ConfigError("data: empty; pass split:ID[:PART], a dataset NAME[@VERSION] "
                          "or a file", param="data")
    if data.startswith("split:"):
        from ..splits import get_split_run, parse_split_ref, split_frame

        rid, part = parse_split_ref(data)
        run = get_split_run(project, rid)
        part = part or "test"
        frame = split_frame(project, rid, part)
        label = f"split:{rid}:{part}"
        digest = content_hash(frame)
        return frame, label, digest, ("run", run.id)
    dv, frame, label = resolve_data(project, data)
    return frame, label, (dv.content_hash if dv else content_hash(frame)), \
        (("dataset", dv.ref) if dv else None)


_FIELD = re.compile(r"\{([^{}]+)\}")


def build_prompts(frame: pd.DataFrame, *, prompt_col: str, template: str | None,
                  where: str) -> list[str]:
    """The prompt per row: the prompt column, or ``template`` with ``{column}`` filled."""
    if template is None:
        _need_column(frame, prompt_col, where, "prompt", "prompt_col")
        return ["" if _isnan(v) else str(v) for v in frame[prompt_col]]
    cols = _FIELD.findall(template)
    if not cols:
        raise ConfigError(f"template: no {{column}} placeholder in {template!r}", param="template")
    for c in cols:
        _need_column(frame, c, where, "template", "template")
    rows = frame[cols].to_dict("records")
    return [_FIELD.sub(lambda m, r=r: "" if _isnan(r[m.group(1)]) else str(r[m.group(1)]),
                       template) for r in rows]


def _isnan(v) -> bool:
    if v is None:
        return True
    try:
        return isinstance(v, float) and math.isnan(v) or v is pd.NA or v is pd.NaT
    except TypeError:
        return False


def _reference(v):
    """A reference cell as str or list of str; None when missing."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        refs = [str(x) for x in v if not _isnan(x)]
        return refs or None
    return None if _isnan(v) else str(v)


def _slice_value(v) -> str:
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if _isnan(v):
        return MISSING
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _check_slices(frame: pd.DataFrame, slices: Sequence[str], where: str) -> list[str]:
    out = []
    for col in slices:
        col = col.strip()
        if col not in frame.columns:
            raise ConfigError(f"slice: no column '{col}' in {where}"
                              f"{did_you_mean(col, frame.columns)}; columns: "
                              f"{_columns_hint(frame)}", param="slice")
        if col not in out:
            out.append(col)
    return out


def _check_references(frame: pd.DataFrame, ref_col: str, metrics: list[str], where: str,
                      *, param: str) -> None:
    need = ", ".join(metrics)
    if ref_col not in frame.columns:
        raise ConfigError(
            f"{where}: no reference column '{ref_col}' for {need}"
            f"{did_you_mean(ref_col, frame.columns)}; columns: {_columns_hint(frame)}; name "
            "the reference column, or score a split that has references", param=param)
    if all(_reference(v) is None for v in frame[ref_col]):
        raise DataError(f"{where}: reference column '{ref_col}' is empty in every row; "
                        f"{need} need references", param=param)


# ----------------------------------------------------------------------------- scoring
def score_examples(predictions: Sequence, references: Sequence, *,
                   metrics: str | Sequence[str] | None = None, ids: Sequence | None = None,
                   prompts: Sequence[str] | None = None,
                   slices: dict[str, Sequence] | None = None, n_resamples: int = 1000,
                   seed: int = 0, normalize: bool = True, project=None,
                   signature_parts: dict | None = None) -> EvalReport:
    """Score predictions against references: metrics, bootstrap CIs, slices, records.

    Missing (NaN) predictions count as empty strings and are reported in ``warnings``.
    Rows without a reference are skipped (also reported).

    Parameters
    ----------
    predictions, references
        One prediction and one reference (a string or a list of strings) per example.
    metrics
        ``accuracy`` (exact match), ``bleu``, ``rouge``, ``sentiment`` (the prediction's own
        VADER compound in [-1, 1]; with ``slices`` by group, how warmly each group is
        answered) (default ``bleu`` and ``rouge``: exact-match accuracy of free text only
        when asked for).
    ids, prompts
        Per-example ids (default the row number) and prompts, for the records.
    slices
        ``{column: values}`` to report metrics per value.
    n_resamples, seed
        Bootstrap resamples (>= 1000) and its seed.
    """
    from ..core.digest import signature
    from .metrics import compute_scores
    from .metrics._bootstrap import _check

    _check(n_resamples, 0.95)
    names = parse_metrics(metrics)
    n_in = len(predictions)
    ids = list(range(n_in)) if ids is None else list(ids)
    warnings: list[str] = []
    preds, nan_preds = [], 0
    for p in predictions:
        if _isnan(p):
            nan_preds += 1
            preds.append("")
        else:
            preds.append(str(p))
    if nan_preds:
        warnings.append(f"{nan_preds} of {n_in} predictions were missing (NaN) and were "
                        "scored as empty strings")
    refs = [_reference(r) for r in references]
    keep = [i for i, r in enumerate(refs) if r is not None]
    if len(keep) < n_in:
        warnings.append(f"{n_in - len(keep)} of {n_in} rows have no reference and were "
                        "skipped")
    if not keep:
        raise DataError("no example has a reference; nothing to score")
    sel = lambda xs: [xs[i] for i in keep]  # noqa: E731
    preds, refs, ids = sel(preds), sel(refs), sel(ids)
    prompts = sel(list(prompts)) if prompts is not None else None
    slices = {c: [_slice_value(v) for v in sel(list(vals))] for c, vals in (slices or {}).items()}

    scores = compute_scores(preds, refs, metrics=names, normalize=normalize, project=project)
    values = scores.values()
    ci = {k: list(v) for k, v in bootstrap_ci(scores, n_resamples=n_resamples, seed=seed).items()}
    slice_out, slice_ci = _slice_scores(scores, slices, n_resamples=n_resamples, seed=seed,
                                        warnings=warnings)
    records = []
    for i in range(len(preds)):
        rec = {"id": ids[i], "prompt": prompts[i] if prompts is not None else None,
               "prediction": preds[i], "reference": refs[i]}
        rec.update({c: v[i] for c, v in slices.items()})
        rec.update(scores.record(i))
        records.append(rec)
    parts = {**(signature_parts or {}), "n": len(preds),
             "metrics": "+".join(names), "boot": f"{n_resamples},seed:{seed}",
             "em": "squad-norm" if normalize else "exact",
             "rouge": "f-mean,stem:no,lsum:newline" if "rouge" in names else None,
             "sentiment": "vader-compound,prediction" if "sentiment" in names else None}
    sig = signature(**parts)
    if scores.bleu_signature:
        sig += f" || BLEU {scores.bleu_signature}"
    return EvalReport(n=len(preds), metrics=values, ci=ci, slices=slice_out, signature=sig,
                      warnings=warnings, records=records, slice_ci=slice_ci,
                      empty_predictions=nan_preds)


def _slice_scores(scores: Scores, slices: dict[str, list[str]], *, n_resamples: int, seed: int,
                  warnings: list[str]) -> tuple[dict, dict]:
    """Metrics and intervals per slice value (``column=value``); small slices warned."""
    slice_out, slice_ci = {}, {}
    for col, vals in slices.items():
        arr = np.array(vals, dtype=object)
        for value in sorted(set(vals)):
            mask = arr == value
            sub = scores.subset(mask)
            key = f"{col}={value}"
            slice_out[key] = {"n": int(sub.n), "metrics": sub.values()}
            slice_ci[key] = {k: list(v) for k, v in
                             bootstrap_ci(sub, n_resamples=n_resamples, seed=seed).items()}
            if sub.n < MIN_SLICE:
                warnings.append(f"slice {key} has only {sub.n} examples (< {MIN_SLICE}): too "
                                "few to say anything; read its interval, not its value")
    return slice_out, slice_ci


def label_text(v) -> str | None:
    """A label cell as the text training used for it (``str(v).strip()``); None if missing."""
    if _isnan(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


def score_labels(predictions: Sequence, references: Sequence, *, ids: Sequence | None = None,
                 prompts: Sequence[str] | None = None,
                 slices: dict[str, Sequence] | None = None,
                 groups: Sequence | None = None, group_col: str | None = None,
                 positive_label: str | None = None, n_resamples: int = 1000, seed: int = 0,
                 signature_parts: dict | None = None) -> EvalReport:
    """Score predicted labels: accuracy and macro-F1 with bootstrap intervals, the confusion
    matrix (scikit-learn), slices, and with ``groups`` the fairness metrics
    (:func:`workbench.evaluation.classification_fairness`).

    Labels compare as text, stripped (as training reads them). Rows without a reference
    label are skipped; a missing prediction counts as wrong (label ``(missing)``).

    Examples
    --------
    >>> rep = score_labels(["pos", "neg", "pos", "pos"], ["pos", "neg", "neg", "pos"])
    >>> rep.metrics["accuracy"], round(rep.metrics["macro_f1"], 3), rep.confusion["matrix"]
    (0.75, 0.733, [[1, 1], [0, 2]])
    """
    from ..core.digest import signature
    from .metrics import LabelCodes, confusion
    from .metrics._bootstrap import _check

    _check(n_resamples, 0.95)
    n_in = len(predictions)
    ids = list(range(n_in)) if ids is None else list(ids)
    refs = [label_text(r) for r in references]
    preds = [label_text(p) for p in predictions]
    warnings: list[str] = []
    nan_preds = sum(p is None for p in preds)
    if nan_preds:
        warnings.append(f"{nan_preds} of {n_in} predictions were missing and count as wrong")
    keep = [i for i, r in enumerate(refs) if r is not None]
    if len(keep) < n_in:
        warnings.append(f"{n_in - len(keep)} of {n_in} rows have no label and were skipped")
    if not keep:
        raise DataError("no example has a label; nothing to score", param="label_col")

    def sel(xs):
        return [xs[i] for i in keep]

    refs, ids = sel(refs), sel(ids)
    preds = [MISSING if p is None else p for p in sel(preds)]
    prompts = sel(list(prompts)) if prompts is not None else None
    slices = {c: [_slice_value(v) for v in sel(list(vals))] for c, vals in (slices or {}).items()}
    codes = LabelCodes.from_labels(refs, preds)
    scores = Scores(len(refs), {"accuracy": (codes.true == codes.pred).astype(float)},
                    labels=codes)
    values = scores.values()
    from .metrics import accuracy as sk_accuracy

    values["accuracy"] = sk_accuracy(codes)  # the same number, as scikit-learn reports it
    ci = {k: list(v) for k, v in bootstrap_ci(scores, n_resamples=n_resamples, seed=seed).items()}
    slice_out, slice_ci = _slice_scores(scores, slices, n_resamples=n_resamples, seed=seed,
                                        warnings=warnings)
    fair = None
    if groups is not None:
        from ._fairness import classification_fairness

        fair = classification_fairness(refs, preds, [_slice_value(g) for g in sel(list(groups))],
                                       group_col=group_col or "group",
                                       positive_label=positive_label, n_resamples=n_resamples,
                                       seed=seed)
        warnings.extend(fair.warnings)
    records = []
    for i in range(len(refs)):
        rec = {"id": ids[i], "prompt": prompts[i] if prompts is not None else None,
               "prediction": preds[i], "reference": refs[i]}
        rec.update({c: v[i] for c, v in slices.items()})
        if fair is not None:
            rec[fair.group_col] = fair.groups_of[i]
        rec.update(scores.record(i))
        records.append(rec)
    parts = {**(signature_parts or {}), "n": len(refs), "metrics": "accuracy+macro_f1",
             "boot": f"{n_resamples},seed:{seed}", "labels": "exact",
             "sklearn": _sklearn_version()}
    if fair is not None:
        parts["fairlearn"] = fair.versions
    return EvalReport(n=len(refs), metrics=values, ci=ci, slices=slice_out,
                      signature=signature(**parts), warnings=warnings, records=records,
                      slice_ci=slice_ci, empty_predictions=nan_preds, task="classification",
                      confusion=confusion(codes),
                      fairness=None if fair is None else fair.to_dict())


def _sklearn_version() -> str:
    from importlib.metadata import version

    return version("scikit-learn")


def split_leakage(project, data: str | None) -> dict | None:
    """What the leakage check of the split behind ``data`` (``split:ID[:PART]``) found
    across its parts, with counts and one sentence; None for data that is not a split.

    ``found`` is true when exact duplicates or near duplicates sit in different parts, so
    the evaluated part may hold examples the model was trained on.
    """
    if not str(data or "").startswith("split:"):
        return None
    from ..splits import get_split_run, parse_split_ref

    rid, part = parse_split_ref(str(data))
    leak = (get_split_run(project, rid).outputs.get("manifest") or {}).get("leakage") or {}
    out = {"split": f"split:{rid}", "part": part or "test", "checked": bool(leak.get("checked"))}
    if not out["checked"]:
        out.update(found=False, message=f"split:{rid} was made without its leakage check: "
                   "duplicates across its parts are unknown")
        return out
    exact = int(leak.get("exact", {}).get("cross_split_clusters", 0))
    near = int(leak.get("near", {}).get("cross_split_pairs", 0))
    out.update(exact_clusters=exact, near_pairs=near, found=bool(exact or near),
               dedupe=bool(leak.get("dedupe")))
    if out["found"]:
        out["message"] = (f"split:{rid}'s leakage check found {exact} exact-duplicate "
                          f"group(s) and {near} near-duplicate pair(s) across its parts: the "
                          f"{out['part']} part may hold examples seen in training, so scores "
                          "can be too good; split again with dedupe")
    else:
        out["message"] = f"split:{rid}'s leakage check found no duplicates across its parts"
    return out


def _record_run(project, report: EvalReport, *, name: str, config: dict, input_hashes: dict,
                parents: Sequence[tuple[tuple[str, Any], str]],
                started: Any = None) -> EvalReport:
    """Store an evaluation run with its per-example records (``started``: when generation
    began, so the run's duration covers it)."""
    from ..core.output import to_jsonable
    from ..core.store import Store

    report.leakage = split_leakage(project, config.get("data"))
    if report.leakage and report.leakage["found"]:
        report.warnings.append(report.leakage["message"])
    store = Store.for_project(project)
    with store.record("evaluate", name=name, config=config, input_hashes=input_hashes,
                      started=started) as out:
        run_id = out["run_id"]
        folder = project.runs_dir / str(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "examples.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for rec in report.records:
                fh.write(json.dumps(to_jsonable(rec), ensure_ascii=False) + "\n")
        report.run_id = run_id
        out.update({"examples": str(path), "result": to_jsonable(report.to_dict()),
                    "warnings": report.warnings, "empty_predictions": report.empty_predictions,
                    "slice_ci": to_jsonable(report.slice_ci), "source": report.source,
                    "model": report.model})
    store.log_metrics(run_id, 0, report.metrics)
    for parent, relation in parents:
        store.add_lineage(parent, ("run", run_id), relation)
    return report


def _group_column(frame: pd.DataFrame, group_col: str | None, where: str, *,
                  fairness: bool) -> str | None:
    """The checked group column; a fairness evaluation without one is refused."""
    if group_col is None:
        if fairness:
            raise DataError("a fairness evaluation needs a group column: name the column "
                            "that holds each example's group", param="group_col")
        return None
    col = str(group_col).strip()
    if col not in frame.columns:
        raise DataError(f"{where}: no group column '{col}'{did_you_mean(col, frame.columns)}; "
                        f"columns: {_columns_hint(frame)}", param="group_col")
    return col


def _wants_fairness(metrics) -> tuple[bool, str | Sequence[str] | None]:
    """``fairness`` in the metrics asks for the group metrics; the rest are the metrics."""
    if metrics is None:
        return False, None
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    rest = [n for n in names if n.strip().lower() != "fairness"]
    return len(rest) < len(names), (rest or None)


def evaluate_model(project, *, model: str, data: str, metrics: str | Sequence[str] | None = None,
                   prompt_col: str = "question", reference_col: str = "answer",
                   label_col: str | None = None, template: str | None = None,
                   slices: Sequence[str] = (), stop: Sequence[str] = (),
                   settings: GenerationSettings = GenerationSettings(),
                   n_resamples: int = 1000, seed: int = 0, use_cache: bool = True,
                   progress: Callable[[int, int], None] | None = None,
                   group_col: str | None = None,
                   positive_label: str | None = None) -> EvalReport:
    """Evaluate ``model`` on each row of ``data`` as what it is (a stored run).

    A causal LM or a seq2seq model generates an answer that is scored (with ``label_col``
    against that column's labels, default metric accuracy); ``stop`` cuts each completion at
    the first occurrence of any string. A classification checkpoint predicts a label per
    row with its head: accuracy and macro-F1 with intervals and the confusion matrix, and
    with ``group_col`` per-group fairness (see :func:`score_labels`).
    """
    from ..models import inference_device, model_fingerprint, model_task, prepare_model

    fairness, metrics = _wants_fairness(metrics)
    names = parse_metrics(metrics if metrics is not None or not label_col else "accuracy")
    frame, label, digest, parent = load_eval_data(project, data)
    group = _group_column(frame, group_col, label, fairness=fairness or bool(positive_label))
    path = prepare_model(project, model)
    task = model_task(path)
    if task == "classification":
        return _evaluate_classifier(project, model=model, path=path, frame=frame, label=label,
                                    digest=digest, parent=parent, prompt_col=prompt_col,
                                    label_col=label_col, template=template, slices=slices,
                                    group_col=group, positive_label=positive_label,
                                    batch_size=settings.batch_size, n_resamples=n_resamples,
                                    seed=seed, progress=progress, metrics=metrics)
    if group is not None:
        raise DataError(f"model '{model}': a {task} model writes text; fairness by group "
                        "needs predicted labels (a classification model, or a predictions "
                        "file of labels)", param="group_col")
    from ..generation import generate

    ref_col = label_col or reference_col
    _check_references(frame, ref_col, names, label,
                      param="label_col" if label_col else "reference_col")
    slice_cols = _check_slices(frame, slices, label)
    prompts = build_prompts(frame, prompt_col=prompt_col, template=template, where=label)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    fp = model_fingerprint(path)
    outputs = generate(project, model, prompts, settings=settings, progress=progress,
                       use_cache=use_cache)
    preds = [_cut(o, stop) for o in outputs]
    ids = _ids(frame)
    device = inference_device().label  # where generate() ran, as probes record it
    report = score_examples(
        preds, frame[ref_col].tolist(), metrics=names, ids=ids, prompts=prompts,
        slices={c: frame[c].tolist() for c in slice_cols}, n_resamples=n_resamples, seed=seed,
        project=project,
        signature_parts={"data": f"{label}#{digest[:12]}", "model": f"{model}#{fp}",
                         "task": None if task == "causal-lm" else task,
                         "decode": decode_part(settings) + (",chat" if settings.chat else ""),
                         "device": device})
    report.source, report.model = label, model
    if task != "causal-lm":
        report.task = task
    config = {"model": model, "data": label, "metrics": names, "prompt_col": prompt_col,
              "reference_col": ref_col, "template": template, "slices": slice_cols,
              "stop": list(stop), "generation": {**settings.__dict__, "device": device},
              "resamples": n_resamples, "seed": seed}
    return _record_run(project, report, name=f"{model} on {label}", config=config,
                       input_hashes={"data": digest, "model": fp},
                       parents=_eval_parents(parent, model), started=started)


def decode_part(settings: GenerationSettings) -> str:
    """The signature's ``decode:`` part before any mode flags: ``greedy,new:48``.

    >>> decode_part(GenerationSettings(max_new_tokens=8))
    'greedy,new:8'
    """
    decode = "sample,t:{},p:{},seed:{}".format(settings.temperature, settings.top_p,
                                               settings.seed) if settings.do_sample else "greedy"
    return f"{decode},new:{settings.max_new_tokens}"


def _ids(frame: pd.DataFrame) -> list:
    return frame["_row_id"].tolist() if "_row_id" in frame.columns else \
        (frame["id"].tolist() if "id" in frame.columns else list(range(len(frame))))


def _eval_parents(parent, model: str) -> list:
    parents = [(parent, "evaluated-on")] if parent else []
    if trained_run_id(model) is not None:
        parents.append((("run", trained_run_id(model)), "evaluated"))
    return parents


def _evaluate_classifier(project, *, model: str, path: Path, frame: pd.DataFrame, label: str,
                         digest: str, parent, prompt_col: str, label_col: str | None,
                         template: str | None, slices: Sequence[str], group_col: str | None,
                         positive_label: str | None, batch_size: int, n_resamples: int,
                         seed: int, progress, metrics=None) -> EvalReport:
    """A classification checkpoint on ``frame``: its head's labels against ``label_col``."""
    from ..models import model_fingerprint
    from ._classify import predict_labels

    if not label_col:
        raise DataError(f"model '{model}' is a classifier: name the label column to score "
                        "its predicted labels against", param="label_col")
    _check_references(frame, label_col, ["the classification"], label, param="label_col")
    slice_cols = _check_slices(frame, slices, label)
    texts = build_prompts(frame, prompt_col=prompt_col, template=template, where=label)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    fp = model_fingerprint(path)
    preds = predict_labels(project, model, texts, batch_size=batch_size, progress=progress)
    # the labels as training read them (str, stripped), so they match the model's classes
    refs = [None if _isnan(v) else str(v).strip() for v in frame[label_col].tolist()]
    report = score_labels(
        preds, refs, ids=_ids(frame), prompts=texts,
        slices={c: frame[c].tolist() for c in slice_cols},
        groups=frame[group_col].tolist() if group_col else None, group_col=group_col,
        positive_label=positive_label, n_resamples=n_resamples, seed=seed,
        signature_parts={"data": f"{label}#{digest[:12]}", "model": f"{model}#{fp}",
                         "task": "classification", "head": "argmax"})
    learned = {str(v) for v in _id2label(path).values()}
    unseen = sum(1 for r in report.records if learned and r["reference"] not in learned)
    if unseen:
        report.warnings.append(f"{unseen} of {report.n} examples have a label the model "
                               f"never learned (it knows {', '.join(sorted(learned))}); "
                               "they count as wrong")
    asked = [m for m in parse_metrics(metrics) if m != "accuracy"] if metrics else []
    if asked:
        report.warnings.append(f"{', '.join(asked)} score text and do not apply to a "
                               "classifier; reported accuracy and macro-F1")
    report.source, report.model = label, model
    config = {"model": model, "data": label, "task": "classification",
              "metrics": ["accuracy", "macro_f1"], "prompt_col": prompt_col,
              "label_col": label_col, "template": template, "slices": slice_cols,
              "group_col": group_col, "positive_label": positive_label,
              "resamples": n_resamples, "seed": seed}
    return _record_run(project, report, name=f"{model} on {label}", config=config,
                       input_hashes={"data": digest, "model": fp},
                       parents=_eval_parents(parent, model), started=started)


def _id2label(path: Path) -> dict:
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8")).get(
            "id2label") or {}
    except (OSError, ValueError):
        return {}


def _cut(text: str, stop: Sequence[str]) -> str:
    for s in stop:
        if s and s in text:
            text = text[:text.index(s)]
    return text.strip()


PREDICTION_COLUMNS = ("prediction", "reference")


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A CSV/JSONL of ``prediction``, ``reference`` (+ optional ``id``, slice columns)."""
    from ..data import read_source

    frame, _src = read_source(path)
    for col in PREDICTION_COLUMNS:
        if col not in frame.columns:
            raise DataError(
                f"{path}: no '{col}' column{did_you_mean(col, frame.columns)}; a predictions "
                f"file needs 'prediction' and 'reference' (optional: 'id', slice columns); "
                f"it has: {_columns_hint(frame)}")
    if len(frame) == 0:
        raise DataError(f"{path}: no rows to score")
    if "id" in frame.columns and frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise DataError(f"{path}: duplicate id {dup!r}; ids must be unique")
    return frame


def evaluate_predictions(project, path: str | Path, *,
                         metrics: str | Sequence[str] | None = None,
                         slices: Sequence[str] = (), n_resamples: int = 1000, seed: int = 0,
                         name: str | None = None, group_col: str | None = None,
                         positive_label: str | None = None) -> EvalReport:
    """Score a predictions file made elsewhere (a stored run).

    With ``metrics="classification"``, or a ``group_col``, the predictions are labels:
    accuracy, macro-F1 and the confusion matrix, and per-group fairness for ``group_col``
    (``metrics="fairness"`` asks for it and needs ``group_col``).
    """
    from ..data import content_hash

    fairness, metrics = _wants_fairness(metrics)
    listed = [] if metrics is None else [str(m).strip().lower() for m in (
        metrics.split(",") if isinstance(metrics, str) else metrics)]
    as_labels = group_col is not None or fairness or listed == ["classification"]
    names = ["accuracy", "macro_f1"] if as_labels else parse_metrics(metrics)
    frame = read_predictions(path)
    label = Path(path).name
    group = _group_column(frame, group_col, str(path), fairness=fairness or bool(positive_label))
    slice_cols = _check_slices(frame, slices, str(path))
    digest = content_hash(frame)
    ids = frame["id"].tolist() if "id" in frame.columns else list(range(len(frame)))
    prompts = [None if _isnan(p) else str(p) for p in frame["prompt"]] \
        if "prompt" in frame.columns else None
    parts = {"predictions": f"{label}#{digest[:12]}"}
    slice_vals = {c: frame[c].tolist() for c in slice_cols}
    if as_labels:
        report = score_labels(frame["prediction"].tolist(), frame["reference"].tolist(),
                              ids=ids, prompts=prompts, slices=slice_vals,
                              groups=frame[group].tolist() if group else None,
                              group_col=group, positive_label=positive_label,
                              n_resamples=n_resamples, seed=seed, signature_parts=parts)
    else:
        report = score_examples(frame["prediction"].tolist(), frame["reference"].tolist(),
                                metrics=names, ids=ids, prompts=prompts, slices=slice_vals,
                                n_resamples=n_resamples, seed=seed, project=project,
                                signature_parts=parts)
    report.source = str(Path(path).resolve())
    config = {"predictions": report.source, "metrics": names, "slices": slice_cols,
              "resamples": n_resamples, "seed": seed}
    if as_labels:
        config.update(task="classification", group_col=group, positive_label=positive_label)
    return _record_run(project, report, name=name or f"predictions {label}", config=config,
                       input_hashes={"predictions": digest}, parents=[])


# ----------------------------------------------------------------------------- loading
def report_from_run(project, ref: str | int) -> EvalReport:
    """Rebuild an :class:`EvalReport` from a stored evaluation run."""
    from ..core.store import Store

    run = _get_eval_run(Store.for_project(project), ref)
    res = run.outputs.get("result") or {}
    records = read_records(Path(run.outputs["examples"]))
    return EvalReport(n=res.get("n", len(records)), metrics=res.get("metrics", {}),
                      ci=res.get("ci", {}), slices=res.get("slices", {}),
                      signature=res.get("signature", ""),
                      warnings=run.outputs.get("warnings", []), records=records,
                      slice_ci=run.outputs.get("slice_ci", {}),
                      empty_predictions=run.outputs.get("empty_predictions", 0),
                      source=run.outputs.get("source", ""), model=run.outputs.get("model"),
                      run_id=run.id, task=res.get("task"), confusion=res.get("confusion"),
                      fairness=res.get("fairness"), leakage=res.get("leakage"))


def _get_eval_run(store, ref):
    text = str(ref).strip().removeprefix("run:")
    try:
        run = store.get_run(int(text), kind="evaluate")
    except (ValueError, NotFoundError):
        ids = [str(r.id) for r in store.list_runs("evaluate", status="succeeded", limit=20)]
        raise NotFoundError(f"no evaluation run '{ref}'; evaluation runs: "
                            + (", ".join(ids) if ids else "none yet")) from None
    if run.status != "succeeded" or "examples" not in run.outputs:
        raise DataError(f"run {run.id}: the evaluation did not finish ({run.status})")
    return run


def read_records(path: Path) -> list[dict]:
    if not path.is_file():
        raise NotFoundError(f"{path}: per-example records are missing")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def list_evaluations(project, *, limit: int = 50) -> list:
    """Finished evaluation runs, newest first."""
    from ..core.store import Store

    return Store.for_project(project).list_runs("evaluate", status="succeeded", limit=limit)


def _side(project, ref: str, *, metrics, n_resamples, seed) -> tuple[str, list[dict], Any]:
    """One side of a comparison: ``(label, records, run id or None)``."""
    p = Path(ref)
    if p.suffix.lower() == ".json" and p.is_file():
        raise ConfigError(f"{ref}: a result summary has no per-example scores; give the "
                          "run (run:ID) or a per-example file (examples.jsonl, or a "
                          "predictions CSV/JSONL)")
    if p.suffix and (p.exists() or p.suffix.lower() in (".csv", ".jsonl", ".ndjson")):
        frame = read_predictions(p)
        if "_bleu_stats" in frame.columns or "accuracy" in frame.columns \
                or "rougeL" in frame.columns:
            recs = json.loads(frame.to_json(orient="records", force_ascii=False))
            return p.name, recs, None
        rep = score_examples(frame["prediction"].tolist(), frame["reference"].tolist(),
                             metrics=metrics,
                             ids=frame["id"].tolist() if "id" in frame.columns else None,
                             n_resamples=n_resamples, seed=seed, project=project)
        return p.name, rep.records, None
    from ..core.store import Store

    run = _get_eval_run(Store.for_project(project), ref)
    return f"run:{run.id} ({run.name})", read_records(Path(run.outputs["examples"])), run.id


#: generation settings that change the text (batch size never does), and where it ran
#: (``device``: device and precision, ``cpu-fp32``; runs recorded before it lack it)
_GEN_KEYS = ("chat", "do_sample", "max_new_tokens", "temperature", "top_p", "seed", "device")


def generation_difference(project, a_run: int | None, b_run: int | None) -> str | None:
    """How two evaluation runs generated differently (``"chat: True in A, False in B"``).

    None when they generated the same way, or when either side is not a generating run.
    """
    from ..core.store import Store

    if a_run is None or b_run is None:
        return None
    store = Store.for_project(project)
    ga = store.get_run(a_run).config.get("generation")
    gb = store.get_run(b_run).config.get("generation")
    if not isinstance(ga, dict) or not isinstance(gb, dict):
        return None
    sampled = ga.get("do_sample") or gb.get("do_sample")
    keys = [k for k in _GEN_KEYS if (sampled or k not in ("temperature", "top_p", "seed"))
            and (k != "device" or ("device" in ga and "device" in gb))]
    diff = [f"{k.replace('_', ' ')}: {ga.get(k)} in A, {gb.get(k)} in B" for k in keys
            if ga.get(k) != gb.get(k)]
    return "; ".join(diff) or None


def _side_info(project, label: str, run_id: int | None) -> dict[str, Any]:
    """What one side of a comparison is: its data, split, model, training run, leakage."""
    from ..core.store import Store

    if run_id is None:
        return {"label": label, "run_id": None, "data": label, "split": None, "model": None,
                "training_run": None, "leakage": None}
    store = Store.for_project(project)
    run = store.get_run(run_id)
    data = run.config.get("data") or run.config.get("predictions") or run.outputs.get("source")
    model = run.config.get("model")
    leak = (run.outputs.get("result") or {}).get("leakage")
    if leak is None and str(data or "").startswith("split:"):
        try:  # an evaluation recorded before leakage was carried: ask the split itself
            leak = split_leakage(project, data)
        except WorkbenchError:
            leak = None
    training = None
    tid = trained_run_id(model)
    if tid is not None:
        try:
            t = store.get_run(tid)
            training = {"run_id": t.id, "name": t.name,
                        "data": ((t.config.get("data") or {}).get("split")
                                 if isinstance(t.config.get("data"), dict) else None)}
        except NotFoundError:
            training = {"run_id": tid, "name": None, "data": None}
    return {"label": label, "run_id": run.id, "data": data,
            "split": ":".join(str(data).split(":")[:2])
            if str(data or "").startswith("split:") else None,
            "model": model, "training_run": training, "leakage": leak}


def compare(project, a: str, b: str, *, metrics: str | Sequence[str] | None = None,
            n_resamples: int = 1000, seed: int = 0, top: int = WORST,
            group_col: str | None = None, positive_label: str | None = None,
            correct: str | None = None) -> CompareReport:
    """Paired bootstrap of ``b - a`` for each metric over the examples both share.

    ``a`` and ``b`` are evaluation runs (``run:ID`` or ``ID``) or per-example files. With
    ``group_col`` (label predictions whose records carry each example's group) the
    demographic parity and equalized odds differences are compared too, before/after.
    ``correct`` (``"holm"`` or ``"bh"``) adjusts the p-values across the metrics
    (``p_adjusted``). Each side is named (data, split, model, training run) and a side
    whose split leaked duplicates across its parts says so in ``warnings``.
    """
    from ..core.digest import signature
    from ..core.store import Store
    from .metrics import CORRECTIONS, adjust_pvalues
    from .metrics._bootstrap import _check

    _check(n_resamples, 0.95)
    correct = None if correct in (None, "", "none") else str(correct).strip().lower()
    if correct is not None and correct not in CORRECTIONS:
        raise ConfigError(f"correct: must be one of none, {', '.join(CORRECTIONS)}; got "
                          f"{correct!r}", param="correct")
    la, ra, ida = _side(project, a, metrics=metrics, n_resamples=n_resamples, seed=seed)
    lb, rb, idb = _side(project, b, metrics=metrics, n_resamples=n_resamples, seed=seed)
    difference = generation_difference(project, ida, idb)
    if difference:
        raise ConfigError(f"compare: the two evaluations generated differently ({difference}); "
                          "evaluate both models with the same settings", param="compare")
    warnings: list[str] = []
    by_b = {str(r["id"]): r for r in rb}
    common = [r for r in ra if str(r["id"]) in by_b]
    if not common:
        raise ConfigError(f"compare: {a} and {b} share no example ids; compare two "
                          "evaluations of the same examples", param="compare")
    if len(common) < max(len(ra), len(rb)):
        warnings.append(f"only {len(common)} examples are in both ({len(ra)} in A, "
                        f"{len(rb)} in B); compared those")
    pairs = [(r, by_b[str(r["id"])]) for r in common]
    differ = sum(1 for x, y in pairs if x.get("reference") != y.get("reference"))
    if differ:
        warnings.append(f"{differ} shared ids have different references in A and B")
    sa = Scores.from_records([x for x, _ in pairs])
    sb = Scores.from_records([y for _, y in pairs])
    if metrics is not None:
        wanted = {m for name in parse_metrics(metrics) for m in _expand(name)}
        for s in (sa, sb):
            s.per_example = {k: v for k, v in s.per_example.items() if k in wanted}
            if "bleu" not in wanted:
                s.bleu_stats = None
    diffs = paired_bootstrap(sa, sb, n_resamples=n_resamples, seed=seed)
    if not diffs:
        raise ConfigError(f"compare: {a} and {b} have no metric in common", param="compare")
    differences = {k: v.to_dict() for k, v in diffs.items()}
    if correct:
        for k, q in zip(differences, adjust_pvalues([d["p_value"] for d in differences.values()],
                                                    method=correct)):
            differences[k]["p_adjusted"] = q
    sides = {"a": _side_info(project, la, ida), "b": _side_info(project, lb, idb)}
    for name, side in sides.items():
        leak = side["leakage"]
        if leak and leak.get("found"):
            warnings.append(f"{name.upper()} ({side['label']}): {leak['message']}")
    key = primary_metric([x for x, _ in pairs], [y for _, y in pairs])  # one both sides have
    changed = []
    if key:
        for x, y in pairs:
            changed.append({"id": x["id"], "prompt": x.get("prompt") or y.get("prompt"),
                            "reference": x.get("reference"), "a": x.get("prediction"),
                            "b": y.get("prediction"), "score_a": x[key], "score_b": y[key],
                            "delta": y[key] - x[key]})
        changed.sort(key=lambda c: (-abs(c["delta"]), str(c["id"])))
        changed = [c for c in changed if c["delta"] != 0][:top]
    fair = _fairness_change(pairs, group_col, positive_label, n_resamples=n_resamples, seed=seed,
                            a=a, b=b) if group_col else None
    sig = signature(a=la, b=lb, n=len(pairs), boot=f"paired,{n_resamples},seed:{seed}",
                    p="two-sided,percentile", correct=correct)
    report = CompareReport(la, lb, len(pairs), differences, sig, warnings, changed, key,
                           a_run=ida, b_run=idb, fairness=fair, sides=sides,
                           correction=correct)
    store = Store.for_project(project)
    with store.record("compare", name=f"{la} vs {lb}",
                      config={"a": a, "b": b, "resamples": n_resamples, "seed": seed,
                              "correct": correct}) as out:
        report.run_id = out["run_id"]
        out["result"] = report.to_dict()
    for rid in (ida, idb):
        if rid is not None:
            store.add_lineage(("run", rid), ("run", report.run_id), "compared")
    return report


def _fairness_change(pairs, group_col: str, positive_label, *, n_resamples: int, seed: int,
                     a: str, b: str) -> dict:
    from ._fairness import fairness_change

    for side, recs in ((a, [x for x, _ in pairs]), (b, [y for _, y in pairs])):
        if not recs[0].get("_classification"):
            raise DataError(f"{side}: not an evaluation of predicted labels; fairness "
                            "before/after compares two classifications", param="group_col")
        if group_col not in recs[0]:
            keys = [k for k in recs[0] if not k.startswith("_") and k not in
                    ("id", "prompt", "prediction", "reference", "accuracy")]
            raise DataError(f"{side}: its records have no group column '{group_col}'"
                            f"{did_you_mean(group_col, keys)}; evaluate it with that group "
                            "column first", param="group_col")
    groups = [str(x[group_col]) for x, _ in pairs]
    if any(str(y[group_col]) != g for (_, y), g in zip(pairs, groups)):
        raise DataError(f"{a} and {b} put some examples in different groups of "
                        f"'{group_col}'; compare evaluations of the same data",
                        param="group_col")
    return fairness_change(([x["reference"] for x, _ in pairs], [x["prediction"] for x, _ in pairs]),
                           ([y["reference"] for _, y in pairs], [y["prediction"] for _, y in pairs]),
                           groups, group_col=group_col, positive_label=positive_label,
                           n_resamples=n_resamples, seed=seed)


def _expand(name: str) -> tuple[str, ...]:
    from .metrics import METRICS

    return METRICS[name]




__all__ = ["EvalReport", "CompareReport", "evaluate_model", "evaluate_predictions",
           "score_examples", "score_labels", "label_text", "compare", "report_from_run", "load_eval_data", "read_predictions",
           "list_evaluations", "primary_metric", "MIN_SLICE", "split_leakage"]
