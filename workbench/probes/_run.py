"""Run a probe: prompts -> outputs (a model, or a file made elsewhere) -> scores -> stats.

Every run is recorded in the store as kind ``probe`` with its per-example records in
``<runs>/<id>/examples.jsonl`` and the result JSON in ``<runs>/<id>/result.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.config import rename_keys
from ..core.digest import sha256_file, sha256_json
from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    did_you_mean,
)
from ..models import has_chat_template, trained_run_id
from ._robust import (
    mark_offsets,
    mark_phrasings,
    phrasing_verdicts,
    scorer_offsets,
    sign_disagreements,
    subtract_offsets,
)
from ._scorers import (
    ScoreInput,
    agreement,
    get_scorer,
    krippendorff_agreement,
    score_outputs,
)
from ._sets import ProbePlan
from ._stats import StatsConfig, compare_groups, finalize, report_verdict

REQUIRED = ("group", "template", "output")
OPTIONAL = ("prompt", "context", "phrase", "sample", "id", "phrasing")
RECORD_KEYS = ("id", "prompt", "output", "group", "phrase", "template", "context", "sample",
               "phrasing")
Progress = Callable[[str, int, int], None]


@dataclass
class ProbeResult:
    """A finished probe: the result JSON, the per-example frame, where things went."""

    result: dict[str, Any]
    examples: pd.DataFrame
    plan: ProbePlan | None
    run_id: int | None = None
    examples_path: Path | None = None
    report_path: Path | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.result["flagged"])


# ------------------------------------------------------------------------ outputs files
def read_outputs(path: str | Path, plan: ProbePlan | None = None, *,
                 encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV/JSONL of generations made elsewhere and check it against ``plan``.

    Required columns: ``group``, ``template``, ``output``; optional ``prompt``,
    ``context``, ``phrase``, ``sample``, ``phrasing`` (which wording of the template, 1 for
    its text; taken from the probe set by prompt text when absent). Without ``context``
    the context is taken from the probe set (by prompt text) or, failing that, is the
    template.
    """
    from ..data import read_source

    frame, _ = read_source(str(path), encoding=encoding)
    return check_outputs(frame, plan, where=str(path))


def check_outputs(frame: pd.DataFrame, plan: ProbePlan | None, *, where: str) -> pd.DataFrame:
    """Validate and normalise an outputs frame into the per-example record columns."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: missing column(s) {', '.join(repr(m) for m in missing)}; an outputs "
            f"file needs {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)}); it has "
            f"{', '.join(map(str, frame.columns))}")
    out = pd.DataFrame({c: frame[c] for c in frame.columns if c in (*REQUIRED, *OPTIONAL)})
    for c in ("group", "template"):
        if out[c].isna().any():
            row = int(out[c].isna().to_numpy().nonzero()[0][0]) + 1
            raise DataError(f"{where}: column '{c}': empty value in data row {row}")
        out[c] = out[c].astype(str)
    out["output"] = out["output"].fillna("").astype(str)
    groups = list(dict.fromkeys(out["group"]))
    if plan is not None:
        _check_known(where, "group", groups, plan.groups, f"probe set '{plan.name}'")
        _check_known(where, "template", list(dict.fromkeys(out["template"])), plan.templates,
                     f"probe set '{plan.name}'")
    if len(groups) < 2:
        raise DataError(f"{where}: column 'group': needs at least two groups to compare, "
                        f"found {len(groups)} ({', '.join(groups)})")
    by_text = {p.text: p for p in plan.prompts} if plan is not None else {}
    if "prompt" not in out:
        out["prompt"] = ""
    out["prompt"] = out["prompt"].fillna("").astype(str)
    if "context" not in out:
        out["context"] = [by_text[p].context if p in by_text else t
                          for p, t in zip(out["prompt"], out["template"])]
    out["context"] = out["context"].fillna("").astype(str)
    if "phrase" not in out:
        out["phrase"] = [by_text[p].phrase if p in by_text else "" for p in out["prompt"]]
    out["phrase"] = out["phrase"].fillna("").astype(str)
    if "sample" not in out:
        out["sample"] = 0
    if "phrasing" not in out:
        out["phrasing"] = [by_text[p].phrasing if p in by_text else 1 for p in out["prompt"]]
    try:
        out["phrasing"] = out["phrasing"].fillna(1).astype(int)
    except (TypeError, ValueError):
        raise DataError(f"{where}: column 'phrasing': expected whole numbers (1 for the "
                        "template's text, 2, 3... for its variants)") from None
    if "id" not in out:
        out["id"] = [f"{i}" for i in range(len(out))]
    out["id"] = out["id"].astype(str)
    return out[list(RECORD_KEYS)].reset_index(drop=True)


def _check_known(where: str, column: str, values: list[str], known: Sequence[str],
                 owner: str) -> None:
    unknown = [v for v in values if v not in set(known)]
    if unknown:
        hint = did_you_mean(unknown[0], known)
        raise DataError(
            f"{where}: column '{column}': unknown {column}(s) "
            f"{', '.join(repr(u) for u in unknown[:5])}{hint}; {owner} has: "
            f"{', '.join(known[:20])}{' ...' if len(known) > 20 else ''}")


# ------------------------------------------------------------------------ generation
def generate_outputs(project, plan: ProbePlan, model: str, *, samples: int = 1, seed: int = 0,
                     max_new_tokens: int = 32, chat: bool = False, batch_size: int = 64,
                     progress: Progress | None = None) -> pd.DataFrame:
    """Generate ``samples`` completions per prompt through the cached, batched engine
    (sample ``k`` with seed ``seed + k``; the K samples of a prompt share its prefill)."""
    from ..generation import GenerationSettings, generate_samples

    texts = [p.text for p in plan.prompts]
    rows = []
    settings = GenerationSettings(max_new_tokens=max_new_tokens, do_sample=samples > 1,
                                  seed=seed, batch_size=batch_size, chat=chat)
    label = f"{samples} samples" if samples > 1 else "generating"
    cb = (lambda d, t: progress(label, d, t)) if progress else None
    every = generate_samples(project, model, texts, samples=samples, settings=settings,
                             progress=cb)
    for k, outs in enumerate(every):
        for p, o in zip(plan.prompts, outs):
            rows.append({"id": f"{p.id}#{k}", "prompt": p.text, "output": o, "group": p.group,
                         "phrase": p.phrase, "template": p.template, "context": p.context,
                         "sample": k, "phrasing": p.phrasing})
    return pd.DataFrame(rows, columns=list(RECORD_KEYS))


def likelihood_outputs(project, plan: ProbePlan, model: str, *,
                       progress: Progress | None = None) -> pd.DataFrame:
    """Score each benchmark sentence by its log-likelihood (the 'output' is the sentence)."""
    from ._likelihood import sequence_logliks

    cb = (lambda d, t: progress("log-likelihood", d, t)) if progress else None
    ll = sequence_logliks(project, model, [p.text for p in plan.prompts], progress=cb)
    frame = pd.DataFrame([{"id": p.id, "prompt": p.text, "output": p.text, "group": p.group,
                           "phrase": p.phrase, "template": p.template, "context": p.context,
                           "sample": 0, "phrasing": p.phrasing} for p in plan.prompts],
                         columns=list(RECORD_KEYS))
    frame["loglik"] = ll
    return frame


# ------------------------------------------------------------------------ analysis
def _preference(frame: pd.DataFrame, groups: list[str], score: str, cfg: StatsConfig) -> dict:
    """Share of contexts where the first group scores higher than the second (CrowS).

    The share is tested against 50% with an exact binomial test (flagged when significant
    and at least ``min_share_effect`` off 50%) and, for "cleared", with two one-sided
    exact binomial tests against ``50% -+ share_margin``: the pairs are shown to prefer
    neither sentence by more than the margin exactly when the ``1 - 2 alpha``
    Clopper-Pearson interval (``equivalence_ci``) lies inside ``50% +- share_margin``.
    """
    from scipy.stats import binom, binomtest

    from ._stats import bootstrap_mean_ci

    wide = frame.pivot_table(index="context", columns="group", values=score, aggfunc="mean")
    wide = wide.dropna(subset=groups[:2])
    wins = (wide[groups[0]] > wide[groups[1]]).astype(float).to_numpy()
    n = int(wins.size)
    k = int(wins.sum())
    share = float(wins.mean()) if n else math.nan
    ci = bootstrap_mean_ci(wins, n_resamples=cfg.n_resamples, confidence_level=cfg.confidence_level,
                           seed=cfg.seed)
    p = float(binomtest(k, n, 0.5).pvalue) if n else 1.0
    m = cfg.share_margin
    if n:
        # H0: share <= 0.5 - m (evidence: many wins) and H0: share >= 0.5 + m (few wins)
        p_lower = float(binom.sf(k - 1, n, 0.5 - m))
        p_upper = float(binom.cdf(k, n, 0.5 + m))
        eq = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * cfg.alpha, method="exact")
        eq_ci = [float(eq.low), float(eq.high)]
    else:
        p_lower = p_upper = 1.0
        eq_ci = [math.nan, math.nan]
    tost_p = max(p_lower, p_upper)
    by_type = {}
    if "phrase" in frame:
        kind = frame.groupby("context")["phrase"].first()
        for t, idx in kind.groupby(kind).groups.items():
            w = (wide.loc[wide.index.intersection(idx), groups[0]]
                 > wide.loc[wide.index.intersection(idx), groups[1]]).astype(float).to_numpy()
            if w.size:
                by_type[str(t)] = {"n": int(w.size), "share": float(w.mean()),
                                   "ci": list(bootstrap_mean_ci(
                                       w, n_resamples=cfg.n_resamples,
                                       confidence_level=cfg.confidence_level,
                                       seed=cfg.seed))}
    flagged = bool(p < cfg.alpha and abs(share - 0.5) >= cfg.min_share_effect)
    cleared = bool(not flagged and tost_p < cfg.alpha)
    verdict = "flagged" if flagged else "cleared" if cleared else "inconclusive"
    return {"a": groups[0], "b": groups[1], "n": n, "share": share, "ci": list(ci),
            "p_value": p, "ideal": 0.5, "by_type": by_type, "flagged": flagged,
            "verdict": verdict, "margin": m, "tost_p": tost_p, "equivalence_ci": eq_ci,
            "needed": _pairs_needed(cfg)}


def _pairs_needed(cfg: StatsConfig) -> dict[str, Any]:
    """Pairs a decision on the share would need (normal approximation to the binomial)."""
    from statistics import NormalDist

    z = NormalDist()
    d, m = cfg.min_share_effect, cfg.share_margin
    out: dict[str, Any] = {"power": cfg.target_power, "alpha_per_test": cfg.alpha,
                           "method": "normal approximation to the binomial"}
    if d > 0:
        sd1 = math.sqrt((0.5 + d) * (0.5 - d))
        n = ((z.inv_cdf(1 - cfg.alpha / 2) * 0.5 + z.inv_cdf(cfg.target_power) * sd1) / d) ** 2
        out["different"] = {"true_share": 0.5 + d, "pairs": int(math.ceil(n))}
    else:
        out["different"] = None
    k = z.inv_cdf(1 - cfg.alpha) + z.inv_cdf((1 + cfg.target_power) / 2)
    out["equivalent"] = {"true_share": 0.5, "margin": m,
                         "pairs": int(math.ceil((k * 0.5 / m) ** 2))}
    return out


def _preference_warning(pref: dict) -> str | None:
    if pref["verdict"] != "inconclusive" or not pref["n"]:
        return None
    need = pref["needed"]
    lo, hi = pref["equivalence_ci"]
    text = (f"preference: inconclusive with {pref['n']} pairs (share {pref['share']:.1%}, "
            f"{1 - 2 * need['alpha_per_test']:.0%} interval [{lo:.1%}, {hi:.1%}])")
    clauses = []
    if need["different"] and need["different"]["pairs"] > pref["n"]:
        clauses.append(f"about {need['different']['pairs']} pairs would detect a true share "
                       f"of {need['different']['true_share']:.0%} {need['power']:.0%} of "
                       "the time")
    if need["equivalent"]["pairs"] > pref["n"]:
        clauses.append(f"about {need['equivalent']['pairs']} would show a true share of 50% "
                       f"within ±{pref['margin']:.0%} {need['power']:.0%} of the time")
    if clauses:
        return text + "; " + ", and ".join(clauses) + " (normal approximation)."
    return text + (f"; the share lies too close to 50% ± {pref['margin']:.0%} to call either "
                   "way.")


def per_context(frame: pd.DataFrame, score: str) -> dict[str, dict[str, float]]:
    """``{group: {context: mean score}}``: what before/after comparisons pair on."""
    means = frame.groupby(["group", "context"])[score].mean()
    out: dict[str, dict[str, float]] = {}
    for (g, c), v in means.items():
        if v == v:
            out.setdefault(str(g), {})[str(c)] = float(v)
    return out


def analyze(frame: pd.DataFrame, *, scorers: Sequence[str], groups: Sequence[str] | None = None,
            paired: bool = True, config: StatsConfig | None = None) -> dict[str, Any]:
    """Statistics for every scorer column, p-values adjusted over all of them together."""
    cfg = config or StatsConfig()
    order = list(groups) if groups else list(dict.fromkeys(frame["group"]))
    present = [g for g in order if g in set(frame["group"])]
    # repeated samples of one prompt tell the sampling noise (and so the samples a
    # decision would need); only sampled runs have them
    units = None
    if "sample" in frame and frame["sample"].nunique() > 1:
        units = (frame["prompt"].astype(str) + "\x1f" + frame["phrase"].astype(str)
                 if "phrase" in frame else frame["prompt"].astype(str))
    reports = [compare_groups(frame["group"], frame["context"], frame[s],
                              config=cfg.for_scorer(s), order=present, adjust=False,
                              paired=paired, units=units) for s in scorers]
    reports = finalize(reports)
    return {s: r for s, r in zip(scorers, reports)}


def _sha(obj: Any) -> str:
    return sha256_json(obj, length=16)


def build_result(frame: pd.DataFrame, *, plan: ProbePlan | None, scorers: Sequence[str],
                 config: StatsConfig, model: str | None, source: str, samples: int = 1,
                 seed: int = 0, probe_name: str | None = None,
                 generation: dict[str, Any] | None = None,
                 offsets: dict[str, dict[str, Any]] | None = None,
                 offset_subtracted: bool = False) -> dict[str, Any]:
    """The result JSON: the issue's schema first, then the details reports need.

    ``generation`` describes how outputs were made (:func:`generation_settings`; ``None``
    for outputs made elsewhere); ``offsets`` are :func:`scorer_offsets` on the probe set's
    controls, already taken off the scores when ``offset_subtracted``.
    """
    from ..core.digest import signature

    groups = plan.groups if plan else None
    paired = plan.paired if plan else True
    reports = analyze(frame, scorers=scorers, groups=groups, paired=paired, config=config)
    primary = scorers[0]
    main = reports[primary]
    name = plan.name if plan else (probe_name or "outputs")
    version = plan.version if plan else 0
    data_hash = _sha(frame[["group", "context", "output"]].to_dict("list"))
    n_phrasings = int(frame["phrasing"].nunique()) if "phrasing" in frame else 1
    sig = signature(probes=f"{name}@v{version}", digest=plan.digest if plan else None,
                    model=model, gen=generation_label(generation),
                    device=(generation or {}).get("device"),
                    outputs=None if model else data_hash,
                    scorer=primary,
                    samples=samples, seed=seed,
                    test="signflip" if (plan is None or plan.paired) else "permutation",
                    correction=config.correction, alpha=config.alpha,
                    min_effect=config.for_scorer(primary).min_effect,
                    margin=config.for_scorer(primary).margin, phrasings=n_phrasings,
                    offset="subtracted" if offset_subtracted else None)
    warnings = [f"{s}: {w}" if len(scorers) > 1 else w
                for s, r in reports.items() for w in r.warnings]
    scorer_dicts = {s: {"description": get_scorer(s).description if s != "loglik" else
                        "sum of token log-probabilities of the sentence",
                        "higher": get_scorer(s).higher if s != "loglik" else
                        "more likely under the model", **r.to_dict()}
                    for s, r in reports.items()}
    offsets = offsets or {}
    order = list(groups) if groups else list(dict.fromkeys(frame["group"]))
    for s, d in scorer_dicts.items():
        mark_offsets(d["comparisons"], offsets.get(s), subtracted=offset_subtracted)
        # one phrasing: its verdicts are the overall ones, no need to test again
        per = (phrasing_verdicts(frame, s, groups=order, paired=paired,
                                 config=config.for_scorer(s)) if n_phrasings > 1 else
               {(c["a"], c["b"]): [{"phrasing": 1, "verdict": c["verdict"], "diff": c["diff"],
                                    "n_contexts": c["n_contexts"]}] for c in d["comparisons"]})
        mark_phrasings(d["comparisons"], per)
    disagreements = sign_disagreements(scorer_dicts)
    result: dict[str, Any] = {
        "probe_set": {"name": name, "version": version},
        "scorer": primary,
        "groups": {g: {"n": s.n, "mean": s.mean, "ci": list(s.ci)}
                   for g, s in main.by_group.items()},
        "gap": main.gap,
        "comparisons": scorer_dicts[primary]["comparisons"],
        "flagged": any(r.flagged for r in reports.values()),
        "verdict": report_verdict([r.verdict for r in reports.values()]),
        "signature": sig,
        "attribute": plan.attribute if plan else None,
        "model": model,
        "source": source,
        "license": plan.license if plan else None,
        "n_examples": int(len(frame)),
        "n_contexts": int(frame["context"].nunique()),
        "paired": plan.paired if plan else True,
        "warnings": list(dict.fromkeys(warnings)),
        "settings": config.for_scorer(primary).model_dump(),
        "generation": generation,
        "n_phrasings": n_phrasings,
        "offsets": offsets,
        "offset_subtracted": bool(offset_subtracted),
        "scorers": scorer_dicts,
        "agreement": agreement({s: frame[s].tolist() for s in scorers}) if len(scorers) > 1
        else [],
        "scorer_agreement": krippendorff_agreement({s: frame[s].tolist() for s in scorers})
        if len(scorers) > 1 else None,
        "sign_disagreements": disagreements,
        "per_context": {s: per_context(frame, s) for s in scorers},
    }
    result["warnings"] += _robustness_warnings(result)
    if plan is not None and plan.kind == "likelihood" and len(plan.groups) == 2:
        pref = _preference(frame, plan.groups, primary, config)
        result["preference"] = pref
        result["flagged"] = result["flagged"] or pref["flagged"]
        result["verdict"] = report_verdict([r.verdict for r in reports.values()]
                                           + [pref["verdict"]])
        warning = _preference_warning(pref)
        if warning:
            result["warnings"].append(warning)
    return result


def _robustness_warnings(result: dict[str, Any]) -> list[str]:
    """One line per headline finding the scorer or the wording may explain."""
    out = []
    for c in result["comparisons"]:
        name = f"'{c['a']}' vs '{c['b']}'"
        if c["verdict"] == "different" and c.get("may_come_from_scorer"):
            o = c["scorer_offset"]
            out.append(f"{name}: the difference ({c['diff']:.3g}) may come from the scorer: "
                       f"{result['scorer']} alone gives the group words an offset of "
                       f"{o['diff']:.3g} [{o['ci'][0]:.3g}, {o['ci'][1]:.3g}] in neutral "
                       "sentences")
        ph = c.get("phrasings")
        if ph and ph["fragile"] and ph["n"] > 1:
            out.append(f"{name}: {ph['label']}")
    for d in result.get("sign_disagreements") or []:
        fav = ", ".join(f"{s} favours '{g}'" for s, g in d["favoured"].items())
        out.append(f"'{d['a']}' vs '{d['b']}': the scorers disagree on the sign ({fav})")
    return out


def generation_settings(*, chat: bool, samples: int, max_new_tokens: int,
                        device: str = "cpu-fp32") -> dict[str, Any]:
    """How a probe's outputs were generated: what before/after must hold equal (``device``:
    where and in which precision, e.g. ``cpu-fp32``, ``cuda-bf16``)."""
    return {"mode": "chat" if chat else "completion",
            "decoding": "sampled" if samples > 1 else "greedy",
            "max_new_tokens": int(max_new_tokens), "samples": int(samples), "device": device}


def generation_label(gen: dict[str, Any] | str | None) -> str:
    """The signature's ``gen:`` part: ``chat-greedy-32tok``, ``loglik`` or ``outputs-file``.

    >>> generation_label(generation_settings(chat=False, samples=2, max_new_tokens=6))
    'completion-sampled-6tok'
    >>> generation_label(None)
    'outputs-file'
    """
    if gen is None:
        return "outputs-file"
    if isinstance(gen, str):
        return gen
    if "decoding" not in gen or "max_new_tokens" not in gen:
        return str(gen.get("mode", "unknown"))
    return f"{gen['mode']}-{gen['decoding']}-{gen['max_new_tokens']}tok"


# ------------------------------------------------------------------------ the run
def run_probe(project, *, plan: ProbePlan | None = None, outputs: str | Path | None = None,
              outputs_frame: pd.DataFrame | None = None, model: str | None = None,
              scorers: Sequence[str] | None = None, samples: int = 1, seed: int = 0,
              max_new_tokens: int = 32, chat: bool | None = None,
              config: StatsConfig | None = None, subtract_offset: bool = False,
              progress: Progress | None = None, record: bool = True) -> ProbeResult:
    """Probe a model (``model`` + ``plan``) or audit outputs made elsewhere (``outputs``).

    Parameters
    ----------
    plan
        From :func:`resolve_probes`. Optional with ``outputs`` when the file has ``group``
        and ``template`` columns.
    scorers
        Scorer names; the first is the headline one (default: the probe set's scorer).
    chat
        Wrap prompts in the model's chat template; ``None`` (the default) does so when the
        model has one (evaluations wrap prompts the same way when asked).
    subtract_offset
        Take each group's scorer offset (its mean score on the probe set's controls) off
        its scores before the statistics.

    The HTML report is :func:`workbench.reports.write_probe_report`.
    """
    cfg = config or StatsConfig()
    if samples < 1:
        raise ConfigError(f"samples: must be at least 1, got {samples}", param="samples")
    if (model is None) == (outputs is None and outputs_frame is None):
        raise ConfigError("give either a model or an outputs file (one of them, not both)")
    if model is not None and plan is None:
        raise ConfigError("probes: a probe set is needed to probe a model", param="probes")
    if plan is not None and plan.kind == "likelihood":
        if model is None:
            raise ConfigError(f"probes: {plan.name} is a likelihood benchmark, which scores a "
                              "model's log-likelihoods; it cannot audit an outputs file",
                              param="probes")
        if scorers and list(scorers) != ["loglik"]:
            raise ConfigError(f"scorer: {plan.name} is scored by log-likelihood only",
                              param="scorer")
        names = ["loglik"]
    else:
        names = list(dict.fromkeys(scorers or [plan.scorer if plan else "sentiment"]))
        for n in names:
            get_scorer(n)  # fail on a typo before any generation
    source = str(outputs) if outputs is not None else (f"model {model}" if model else "frame")
    if subtract_offset and not (plan is not None and plan.controls):
        raise ConfigError("subtracting the scorer offset needs a probe set with controls "
                          "(neutral carrier sentences); "
                          + ("this one has none" if plan is not None else
                             "name the probe set the outputs came from"),
                          param="subtract_offset")
    if model is not None and plan.kind == "generate" and chat is None:
        chat = has_chat_template(project, model)
    chat = bool(chat)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # the run covers generation
    if model is not None and plan.kind == "likelihood":
        frame = likelihood_outputs(project, plan, model, progress=progress)
    elif model is not None:
        frame = generate_outputs(project, plan, model, samples=samples, seed=seed,
                                 max_new_tokens=max_new_tokens, chat=chat, progress=progress)
    elif outputs_frame is not None:
        frame = check_outputs(outputs_frame, plan, where="outputs")
    else:
        frame = read_outputs(outputs, plan)
    if names != ["loglik"]:
        if progress:
            progress("scoring", 0, len(names))
        scores = score_outputs(names, ScoreInput(frame["output"].tolist(),
                                                 frame["prompt"].tolist(),
                                                 frame["group"].tolist(),
                                                 frame["context"].tolist(), project))
        for n, vals in scores.items():
            frame[n] = vals
    generation = None
    if model is not None:
        from ..models import inference_device

        device = inference_device().label
        generation = generation_settings(chat=chat, samples=samples, device=device,
                                         max_new_tokens=max_new_tokens) \
            if plan.kind == "generate" else {"mode": "loglik", "device": device}
    offsets = scorer_offsets(plan, names, cfg, project=project) if plan is not None else {}
    if subtract_offset:
        frame = subtract_offsets(frame, offsets)
    result = build_result(frame, plan=plan, scorers=names, config=cfg, model=model,
                          source=source, samples=samples, seed=seed, generation=generation,
                          probe_name=Path(str(outputs)).stem if outputs else None,
                          offsets=offsets, offset_subtracted=subtract_offset)
    res = ProbeResult(result, frame, plan)
    if record:
        _record(project, res, model=model, outputs=outputs, names=names, samples=samples,
                seed=seed, cfg=cfg, started=started)
    return res


def _record(project, res: ProbeResult, *, model, outputs, names, samples, seed, cfg,
            started=None) -> None:
    from ..core.store import Store

    store = Store.for_project(project)
    r = res.result
    inputs = {"probe_set": res.plan.digest if res.plan else None}
    if model:
        from ..models import model_fingerprint, prepare_model

        inputs["model"] = model_fingerprint(prepare_model(project, model))
    if outputs is not None:
        inputs["outputs"] = sha256_file(outputs, length=16)
    config = {"probe_set": r["probe_set"], "model": model, "outputs": str(outputs)
              if outputs else None, "scorers": names, "samples": samples, "seed": seed,
              "stats": cfg.model_dump(), "generation": r.get("generation"),
              "offset_subtracted": r.get("offset_subtracted", False)}
    with store.record("probe", name=r["probe_set"]["name"], config=config,
                      input_hashes=inputs, started=started) as out:
        run_id = out["run_id"]
        run_dir = project.runs_dir / str(run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        ex_path = run_dir / "examples.jsonl"
        with ex_path.open("w", encoding="utf-8") as fh:
            for rec in res.examples.to_dict("records"):
                fh.write(json.dumps({k: _plain(v) for k, v in rec.items()},
                                    ensure_ascii=False) + "\n")
        r["run_id"] = run_id
        r["examples_path"] = str(ex_path)
        result_path = run_dir / "result.json"
        from ..core.output import write_json

        write_json(str(result_path), r)
        out["examples"] = str(ex_path)
        out["result_path"] = str(result_path)
        out["result"] = {k: v for k, v in r.items()
                         if k not in ("per_context", "scorers", "offsets")}
        out["flagged"] = r["flagged"]
        if trained_run_id(model) is not None:
            store.add_lineage(("run", str(trained_run_id(model))), ("run", str(run_id)),
                              relation="probed")
        res.run_id = run_id
        res.examples_path = ex_path
    store.log_metrics(run_id, 0, {"gap": r["gap"] if r["gap"] == r["gap"] else 0.0,
                                  "flagged": float(r["flagged"])})


def _plain(v):
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def load_result(project, ref: str) -> dict[str, Any]:
    """A probe result from a run id (``12``, ``run:12``) or a result JSON file."""
    from ..core.store import Store

    p = Path(ref)
    if p.suffix.lower() == ".json" or p.is_file():
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"{ref}: no such file") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ref}: not valid JSON ({exc.msg})") from None
        for key in ("probe_set", "groups", "comparisons", "flagged"):
            if not isinstance(data, dict) or key not in data:
                raise ConfigError(f"{ref}: not a probe result (no '{key}')")
        return _current_keys(data)
    run = Store.for_project(project).get_run(ref, kind="probe")
    if run.status != "succeeded":
        raise ConfigError(f"run {run.id}: the probe run did not finish ({run.status})")
    path = run.outputs.get("result_path")
    if path and Path(path).is_file():
        return _current_keys(json.loads(Path(path).read_text(encoding="utf-8")))
    return _current_keys(dict(run.outputs.get("result") or {}))


def _current_keys(result: dict[str, Any]) -> dict[str, Any]:
    """A stored result's statistics settings under today's names: results written before
    the rename say ``n_bootstrap`` and ``confidence``. No warning: nobody wrote them."""
    def upgrade(part: Any) -> Any:
        return rename_keys(part, StatsConfig.renamed_keys, warn=False)

    if "settings" in result:
        result["settings"] = upgrade(result["settings"])
    for rep in (result.get("scorers") or {}).values():
        if isinstance(rep, dict) and "settings" in rep:
            rep["settings"] = upgrade(rep["settings"])
    return result


def load_examples(result: dict[str, Any]) -> pd.DataFrame | None:
    """The per-example records a result points to, when they still exist."""
    path = result.get("examples_path")
    if not path or not Path(path).is_file():
        return None
    return pd.read_json(path, lines=True, dtype=False)
