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

from ..core.errors import NotFoundError, WorkbenchError, did_you_mean
from ..generation import GenerationSettings
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

    def to_dict(self) -> dict[str, Any]:
        """The result JSON (the issue's schema)."""
        return {"n": self.n, "metrics": self.metrics, "ci": self.ci, "slices": self.slices,
                "signature": self.signature}

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

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "n": self.n, "metrics": self.differences,
                "signature": self.signature, "warnings": self.warnings}


def primary_metric(records: Sequence[dict]) -> str | None:
    """The per-example score used to rank examples: rougeL, else accuracy."""
    first = records[0] if records else {}
    return next((k for k in ("rougeL", "accuracy") if k in first), None)


# ----------------------------------------------------------------------------- inputs
def _columns_hint(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns))


def _need_column(frame: pd.DataFrame, col: str, where: str, what: str, fix: str) -> None:
    if col not in frame.columns:
        raise WorkbenchError(f"{where}: no {what} column '{col}'"
                             f"{did_you_mean(col, frame.columns)}; columns: "
                             f"{_columns_hint(frame)}; {fix}")


def load_eval_data(project, data: str) -> tuple[pd.DataFrame, str, str, tuple[str, Any] | None]:
    """``split:ID[:PART]`` (default part test), a stored ``NAME[@VERSION]`` or a file.

    Returns ``(frame, label, content hash, lineage parent or None)``.
    """
    from ..data import content_hash, resolve_data

    data = (data or "").strip()
    if not data:
        raise WorkbenchError("--data: empty; pass split:ID[:PART], a dataset NAME[@VERSION] "
                             "or a file")
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
        _need_column(frame, prompt_col, where, "prompt", "pass --prompt-col COL")
        return ["" if _isnan(v) else str(v) for v in frame[prompt_col]]
    cols = _FIELD.findall(template)
    if not cols:
        raise WorkbenchError(f"--template: no {{column}} placeholder in {template!r}")
    for c in cols:
        _need_column(frame, c, where, "template", "fix --template")
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
            raise WorkbenchError(f"--slice: no column '{col}' in {where}"
                                 f"{did_you_mean(col, frame.columns)}; columns: "
                                 f"{_columns_hint(frame)}")
        if col not in out:
            out.append(col)
    return out


def _check_references(frame: pd.DataFrame, ref_col: str, metrics: list[str], where: str,
                      *, option: str) -> None:
    need = ", ".join(metrics)
    if ref_col not in frame.columns:
        raise WorkbenchError(
            f"{where}: no reference column '{ref_col}' for {need}"
            f"{did_you_mean(ref_col, frame.columns)}; columns: {_columns_hint(frame)}; pass "
            f"{option} COL, or score a split that has references")
    if all(_reference(v) is None for v in frame[ref_col]):
        raise WorkbenchError(f"{where}: reference column '{ref_col}' is empty in every row; "
                             f"{need} need references")


# ----------------------------------------------------------------------------- scoring
def score_examples(predictions: Sequence, references: Sequence, *,
                   metrics: str | Sequence[str] | None = None, ids: Sequence | None = None,
                   prompts: Sequence[str] | None = None,
                   slices: dict[str, Sequence] | None = None, resamples: int = 1000,
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
        ``accuracy``, ``bleu``, ``rouge`` (default all three).
    ids, prompts
        Per-example ids (default the row number) and prompts, for the records.
    slices
        ``{column: values}`` to report metrics per value.
    resamples, seed
        Bootstrap resamples (>= 1000) and its seed.
    """
    from ..core.digest import signature
    from .metrics import compute_scores
    from .metrics._bootstrap import _check

    _check(resamples, 0.95)
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
        raise WorkbenchError("no example has a reference; nothing to score")
    sel = lambda xs: [xs[i] for i in keep]  # noqa: E731
    preds, refs, ids = sel(preds), sel(refs), sel(ids)
    prompts = sel(list(prompts)) if prompts is not None else None
    slices = {c: [_slice_value(v) for v in sel(list(vals))] for c, vals in (slices or {}).items()}

    scores = compute_scores(preds, refs, metrics=names, normalize=normalize, project=project)
    values = scores.values()
    ci = {k: list(v) for k, v in bootstrap_ci(scores, resamples=resamples, seed=seed).items()}
    slice_out, slice_ci = {}, {}
    for col, vals in slices.items():
        arr = np.array(vals, dtype=object)
        for value in sorted(set(vals)):
            mask = arr == value
            sub = scores.subset(mask)
            key = f"{col}={value}"
            slice_out[key] = {"n": int(sub.n), "metrics": sub.values()}
            slice_ci[key] = {k: list(v) for k, v in
                             bootstrap_ci(sub, resamples=resamples, seed=seed).items()}
            if sub.n < MIN_SLICE:
                warnings.append(f"slice {key} has only {sub.n} examples (< {MIN_SLICE}): too "
                                "few to say anything; read its interval, not its value")
    records = []
    for i in range(len(preds)):
        rec = {"id": ids[i], "prompt": prompts[i] if prompts is not None else None,
               "prediction": preds[i], "reference": refs[i]}
        rec.update({c: v[i] for c, v in slices.items()})
        rec.update(scores.record(i))
        records.append(rec)
    parts = {**(signature_parts or {}), "n": len(preds),
             "metrics": "+".join(names), "boot": f"{resamples},seed:{seed}",
             "em": "squad-norm" if normalize else "exact",
             "rouge": "f-mean,stem:no,lsum:newline" if "rouge" in names else None}
    sig = signature(**parts)
    if scores.bleu_signature:
        sig += f" || BLEU {scores.bleu_signature}"
    return EvalReport(n=len(preds), metrics=values, ci=ci, slices=slice_out, signature=sig,
                      warnings=warnings, records=records, slice_ci=slice_ci,
                      empty_predictions=nan_preds)


def _record_run(project, report: EvalReport, *, name: str, config: dict, input_hashes: dict,
                parents: Sequence[tuple[tuple[str, Any], str]],
                started: Any = None) -> EvalReport:
    """Store an evaluation run with its per-example records (``started``: when generation
    began, so the run's duration covers it)."""
    from ..core.output import to_jsonable
    from ..core.store import Store

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


def evaluate_model(project, *, model: str, data: str, metrics: str | Sequence[str] | None = None,
                   prompt_col: str = "question", reference_col: str = "answer",
                   label_col: str | None = None, template: str | None = None,
                   slices: Sequence[str] = (), stop: Sequence[str] = (),
                   settings: GenerationSettings = GenerationSettings(),
                   resamples: int = 1000, seed: int = 0, use_cache: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> EvalReport:
    """Generate an answer per row of ``data`` with ``model`` and score it (a stored run).

    With ``label_col`` the references are that column's labels and the default metric is
    accuracy. ``stop`` cuts each completion at the first occurrence of any string.
    """
    from ..generation import generate
    from ..models import model_fingerprint, prepare_model

    names = parse_metrics(metrics if metrics is not None or not label_col else "accuracy")
    frame, label, digest, parent = load_eval_data(project, data)
    ref_col = label_col or reference_col
    _check_references(frame, ref_col, names, label,
                      option="--label-col" if label_col else "--reference-col")
    slice_cols = _check_slices(frame, slices, label)
    prompts = build_prompts(frame, prompt_col=prompt_col, template=template, where=label)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    path = prepare_model(project, model)
    fp = model_fingerprint(path)
    outputs = generate(project, model, prompts, settings=settings, progress=progress,
                       use_cache=use_cache)
    preds = [_cut(o, stop) for o in outputs]
    ids = frame["_row_id"].tolist() if "_row_id" in frame.columns else \
        (frame["id"].tolist() if "id" in frame.columns else list(range(len(frame))))
    decode = "sample,t:{},p:{},seed:{}".format(settings.temperature, settings.top_p,
                                               settings.seed) if settings.do_sample else "greedy"
    report = score_examples(
        preds, frame[ref_col].tolist(), metrics=names, ids=ids, prompts=prompts,
        slices={c: frame[c].tolist() for c in slice_cols}, resamples=resamples, seed=seed,
        project=project,
        signature_parts={"data": f"{label}#{digest[:12]}", "model": f"{model}#{fp}",
                         "decode": f"{decode},new:{settings.max_new_tokens}"
                                   f"{',chat' if settings.chat else ''}"})
    report.source, report.model = label, model
    config = {"model": model, "data": label, "metrics": names, "prompt_col": prompt_col,
              "reference_col": ref_col, "template": template, "slices": slice_cols,
              "stop": list(stop), "generation": settings.__dict__, "resamples": resamples,
              "seed": seed}
    parents = [(parent, "evaluated-on")] if parent else []
    if model.startswith("run:"):
        parents.append((("run", int(model.split(":", 1)[1])), "evaluated"))
    return _record_run(project, report, name=f"{model} on {label}", config=config,
                       input_hashes={"data": digest, "model": fp}, parents=parents,
                       started=started)


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
            raise WorkbenchError(
                f"{path}: no '{col}' column{did_you_mean(col, frame.columns)}; a predictions "
                f"file needs 'prediction' and 'reference' (optional: 'id', slice columns); "
                f"it has: {_columns_hint(frame)}")
    if len(frame) == 0:
        raise WorkbenchError(f"{path}: no rows to score")
    if "id" in frame.columns and frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise WorkbenchError(f"{path}: duplicate id {dup!r}; ids must be unique")
    return frame


def evaluate_predictions(project, path: str | Path, *,
                         metrics: str | Sequence[str] | None = None,
                         slices: Sequence[str] = (), resamples: int = 1000, seed: int = 0,
                         name: str | None = None) -> EvalReport:
    """Score a predictions file made elsewhere (a stored run)."""
    from ..data import content_hash

    names = parse_metrics(metrics)
    frame = read_predictions(path)
    label = Path(path).name
    slice_cols = _check_slices(frame, slices, str(path))
    digest = content_hash(frame)
    ids = frame["id"].tolist() if "id" in frame.columns else list(range(len(frame)))
    prompts = [None if _isnan(p) else str(p) for p in frame["prompt"]] \
        if "prompt" in frame.columns else None
    report = score_examples(frame["prediction"].tolist(), frame["reference"].tolist(),
                            metrics=names, ids=ids, prompts=prompts,
                            slices={c: frame[c].tolist() for c in slice_cols},
                            resamples=resamples, seed=seed, project=project,
                            signature_parts={"predictions": f"{label}#{digest[:12]}"})
    report.source = str(Path(path).resolve())
    config = {"predictions": report.source, "metrics": names, "slices": slice_cols,
              "resamples": resamples, "seed": seed}
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
                      run_id=run.id)


def _get_eval_run(store, ref):
    text = str(ref).strip().removeprefix("run:")
    try:
        run = store.get_run(int(text), kind="evaluate")
    except (ValueError, NotFoundError):
        ids = [str(r.id) for r in store.list_runs("evaluate", status="succeeded", limit=20)]
        raise NotFoundError(f"no evaluation run '{ref}'; evaluation runs: "
                            + (", ".join(ids) if ids else "none yet")) from None
    if run.status != "succeeded" or "examples" not in run.outputs:
        raise WorkbenchError(f"run {run.id}: the evaluation did not finish ({run.status})")
    return run


def read_records(path: Path) -> list[dict]:
    if not path.is_file():
        raise WorkbenchError(f"{path}: per-example records are missing")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def list_evaluations(project, *, limit: int = 50) -> list:
    """Finished evaluation runs, newest first."""
    from ..core.store import Store

    return Store.for_project(project).list_runs("evaluate", status="succeeded", limit=limit)


def _side(project, ref: str, *, metrics, resamples, seed) -> tuple[str, list[dict], Any]:
    """One side of a comparison: ``(label, records, run id or None)``."""
    p = Path(ref)
    if p.suffix.lower() == ".json" and p.is_file():
        raise WorkbenchError(f"{ref}: a result summary has no per-example scores; pass the "
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
                             resamples=resamples, seed=seed, project=project)
        return p.name, rep.records, None
    from ..core.store import Store

    run = _get_eval_run(Store.for_project(project), ref)
    return f"run:{run.id} ({run.name})", read_records(Path(run.outputs["examples"])), run.id


def compare(project, a: str, b: str, *, metrics: str | Sequence[str] | None = None,
            resamples: int = 1000, seed: int = 0, top: int = WORST) -> CompareReport:
    """Paired bootstrap of ``b - a`` for each metric over the examples both share.

    ``a`` and ``b`` are evaluation runs (``run:ID`` or ``ID``) or per-example files.
    """
    from ..core.digest import signature
    from ..core.store import Store
    from .metrics._bootstrap import _check

    _check(resamples, 0.95)
    la, ra, ida = _side(project, a, metrics=metrics, resamples=resamples, seed=seed)
    lb, rb, idb = _side(project, b, metrics=metrics, resamples=resamples, seed=seed)
    warnings: list[str] = []
    by_b = {str(r["id"]): r for r in rb}
    common = [r for r in ra if str(r["id"]) in by_b]
    if not common:
        raise WorkbenchError(f"--compare: {a} and {b} share no example ids; compare two "
                             "evaluations of the same examples")
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
    diffs = paired_bootstrap(sa, sb, resamples=resamples, seed=seed)
    if not diffs:
        raise WorkbenchError(f"--compare: {a} and {b} have no metric in common")
    key = primary_metric([x for x, _ in pairs]) if primary_metric([y for _, y in pairs]) else None
    changed = []
    if key:
        for x, y in pairs:
            changed.append({"id": x["id"], "prompt": x.get("prompt") or y.get("prompt"),
                            "reference": x.get("reference"), "a": x.get("prediction"),
                            "b": y.get("prediction"), "score_a": x[key], "score_b": y[key],
                            "delta": y[key] - x[key]})
        changed.sort(key=lambda c: (-abs(c["delta"]), str(c["id"])))
        changed = [c for c in changed if c["delta"] != 0][:top]
    sig = signature(a=la, b=lb, n=len(pairs), boot=f"paired,{resamples},seed:{seed}",
                    p="two-sided,centred")
    report = CompareReport(la, lb, len(pairs), {k: v.to_dict() for k, v in diffs.items()},
                           sig, warnings, changed, key, a_run=ida, b_run=idb)
    store = Store.for_project(project)
    with store.record("compare", name=f"{la} vs {lb}",
                      config={"a": a, "b": b, "resamples": resamples, "seed": seed}) as out:
        report.run_id = out["run_id"]
        out["result"] = report.to_dict()
    for rid in (ida, idb):
        if rid is not None:
            store.add_lineage(("run", rid), ("run", report.run_id), "compared")
    return report


def _expand(name: str) -> tuple[str, ...]:
    from .metrics import METRICS

    return METRICS[name]




__all__ = ["EvalReport", "CompareReport", "evaluate_model", "evaluate_predictions",
           "score_examples", "compare", "report_from_run", "load_eval_data", "read_predictions",
           "list_evaluations", "primary_metric", "MIN_SLICE"]
