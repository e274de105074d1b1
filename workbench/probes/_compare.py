"""Before/after: how a fine-tune moved each group's score and each gap between groups.

Both results must come from the same probe set (name and version). Pairing is on the
context (the same prompts were asked before and after):

- per group: ``change_c = after_g(c) - before_g(c)``, its mean with a bootstrap interval
  and a sign-flip p-value;
- per pair of groups: the change in their difference. For paired probe sets that is a
  sign-flip test on ``change_a(c) - change_b(c)``; for unpaired ones (BOLD) a
  label-permutation test of group a's changes against group b's. The same flips (or
  permutations) give a TOST of that change against ``+-margin`` (the scorer's
  equivalence margin, see :mod:`workbench.probes._stats`);
- every difference p-value is adjusted together (Holm or BH, from the settings), and the
  gaps' TOST p-values together with the same correction;
- each gap change gets a verdict: *widened* (or *narrowed*) when its adjusted p is below
  alpha, the change is at least ``min_effect`` in size and ``|after diff|`` is larger
  (smaller) than ``|before diff|``; otherwise *unchanged* when its adjusted TOST p is
  below alpha (the change is shown to lie within ``+-margin``); otherwise *inconclusive*.

Two runs whose outputs were generated differently (chat template or not, greedy or
sampled, new tokens, samples per prompt) or with the scorer offset subtracted on one side
only are refused, with one line naming the difference.

``verdict`` at the top level is the after-model's own verdict (``None`` for results made
before verdicts existed), for gates such as "the after-model must be cleared".
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ._run import generation_label, load_examples
from ._stats import (
    StatsConfig,
    adjust_pvalues,
    bootstrap_diff_ci,
    bootstrap_mean_ci,
    sign_flip_test,
    tost_paired,
    tost_unpaired,
)


def _contexts(result: dict, scorer: str, where: str) -> dict[str, dict[str, float]]:
    pc = (result.get("per_context") or {}).get(scorer)
    if not pc:
        raise ConfigError(f"{where}: the result has no per-context scores for '{scorer}' "
                          "(results from workbench probe carry them)")
    return pc


def compare_results(before: dict[str, Any], after: dict[str, Any], *,
                    config: StatsConfig | None = None, before_label: str = "before",
                    after_label: str = "after", top_examples: int = 10) -> dict[str, Any]:
    """Per-group changes, gap changes and the examples whose scores moved most."""
    from ..core.digest import signature

    pb, pa = before["probe_set"], after["probe_set"]
    if (pb["name"], pb["version"]) != (pa["name"], pa["version"]):
        raise ConfigError(
            f"before/after: different probe sets ({pb['name']} v{pb['version']} vs "
            f"{pa['name']} v{pa['version']}); compare runs of the same probe set")
    difference = generation_difference(before, after)
    if difference:
        raise ConfigError(f"before/after: the two runs used different generation settings "
                          f"({difference}); probe both models the same way")
    scorer = before["scorer"]
    if scorer != after["scorer"]:
        raise ConfigError(f"before/after: scored differently ({scorer} vs "
                          f"{after['scorer']}); probe both models with the same scorer")
    cfg = (config or StatsConfig()).for_scorer(scorer)
    cb = _contexts(before, scorer, before_label)
    ca = _contexts(after, scorer, after_label)
    groups = [g for g in before["groups"] if g in after["groups"]]
    paired = bool(before.get("paired", True))
    changes: dict[str, np.ndarray] = {}
    keys: dict[str, list[str]] = {}
    rows, pvals = [], []
    for i, g in enumerate(groups):
        shared = sorted(set(cb.get(g, {})) & set(ca.get(g, {})))
        d = np.array([ca[g][c] - cb[g][c] for c in shared])
        changes[g], keys[g] = d, shared
        p, _ = sign_flip_test(d, n_permutations=cfg.n_permutations,
                              exact_max=cfg.exact_max_contexts, seed=cfg.seed + i)
        rows.append({"group": g, "n_contexts": int(d.size),
                     "before": before["groups"][g]["mean"], "after": after["groups"][g]["mean"],
                     "change": float(d.mean()) if d.size else math.nan,
                     "ci": list(bootstrap_mean_ci(d, n_resamples=cfg.n_resamples,
                                                  confidence_level=cfg.confidence_level,
                                                  seed=cfg.seed + i)),
                     "p_value": p})
        pvals.append(p)
    diff_b = {(c["a"], c["b"]): c["diff"] for c in before["comparisons"]}
    diff_a = {(c["a"], c["b"]): c["diff"] for c in after["comparisons"]}
    gaps = []
    for k, (a, b) in enumerate(itertools.combinations(groups, 2)):
        seeds = {"n_permutations": cfg.n_permutations, "seed": cfg.seed + 100 + k}
        if paired:
            ka, kb = dict(zip(keys[a], changes[a])), dict(zip(keys[b], changes[b]))
            shared = sorted(set(ka) & set(kb))
            d = np.array([ka[c] - kb[c] for c in shared])
            t = tost_paired(d, margin=cfg.margin, alpha=cfg.alpha,
                            exact_max=cfg.exact_max_contexts, **seeds)
            ci = bootstrap_mean_ci(d, n_resamples=cfg.n_resamples, confidence_level=cfg.confidence_level,
                                   seed=cfg.seed + 100 + k)
            n = int(d.size)
        else:
            x, y = changes[a], changes[b]
            t = tost_unpaired(x, y, margin=cfg.margin, alpha=cfg.alpha, **seeds)
            ci = bootstrap_diff_ci(x, y, n_resamples=cfg.n_resamples,
                                   confidence_level=cfg.confidence_level,
                                   seed=cfg.seed + 100 + k)
            n = int(min(x.size, y.size))
        gaps.append({"a": a, "b": b, "n_contexts": n, "before": diff_b.get((a, b), math.nan),
                     "after": diff_a.get((a, b), math.nan),
                     "change": t.estimate if n else math.nan, "ci": list(ci),
                     "p_value": t.p_value, "margin": cfg.margin, "tost_p": t.tost_p,
                     "equivalence_ci": list(t.interval)})
        pvals.append(t.p_value)
    adjusted = adjust_pvalues(pvals, method=cfg.correction)
    for r, pa_ in zip(rows + gaps, adjusted):
        r["p_adjusted"] = pa_
        r["significant"] = bool(pa_ < cfg.alpha)
    tost_adjusted = adjust_pvalues([gp["tost_p"] for gp in gaps], method=cfg.correction)
    for gp, ta in zip(gaps, tost_adjusted):
        gp["tost_p_adjusted"] = ta
        gp["verdict"] = _gap_verdict(gp, ta, cfg)
    gate = bool(after["flagged"] and not before["flagged"])
    return {
        "probe_set": pb, "scorer": scorer, "before": _summary(before, before_label),
        "after": _summary(after, after_label), "groups": rows, "gaps": gaps,
        "gap": {"before": before["gap"], "after": after["gap"]},
        "newly_flagged": gate, "flagged": bool(after["flagged"]),
        "verdict": after.get("verdict"),
        "examples": _moved_examples(before, after, scorer, top_examples),
        "license": after.get("license") or before.get("license"),
        "settings": cfg.model_dump(),
        "generation": _generation(after),
        "generation_label": generation_label(_generation(after))
        if _generation(after) is not None else None,
        "signature": signature(probes=f"{pb['name']}@v{pb['version']}", scorer=scorer,
                               before=before_label, after=after_label,
                               correction=cfg.correction, alpha=cfg.alpha,
                               min_effect=cfg.min_effect, margin=cfg.margin,
                               gen=generation_label(_generation(after))),
    }


_GEN_NAMES = {"mode": "mode", "decoding": "decoding", "max_new_tokens": "max new tokens",
              "samples": "samples per prompt"}


def _generation(result: dict) -> dict | None:
    """A result's generation settings; older results carry them only in the signature."""
    gen = result.get("generation")
    if isinstance(gen, dict):
        return gen
    for part in str(result.get("signature") or "").split("|"):
        if part == "gen:outputs-file":
            return None
        if part.startswith("gen:"):
            bits = part.removeprefix("gen:").split("-")
            if len(bits) == 3 and bits[2].endswith("tok"):
                return {"mode": bits[0], "decoding": bits[1],
                        "max_new_tokens": int(bits[2].removesuffix("tok"))}
            return {"mode": part.removeprefix("gen:")}
    return None


def generation_difference(before: dict, after: dict) -> str | None:
    """What differs in how the two results' outputs were made, in words; ``None`` if nothing.

    Outputs files made elsewhere carry no settings, so nothing can be said about them; a
    scorer offset subtracted on one side only counts as a difference.

    >>> generation_difference({"generation": {"mode": "chat", "max_new_tokens": 32}},
    ...                       {"generation": {"mode": "completion", "max_new_tokens": 32}})
    'mode: chat before, completion after'
    """
    parts = []
    gb, ga = _generation(before), _generation(after)
    if gb is not None and ga is not None:
        # keys both sides record (results older than this field lack ``samples``)
        for key in [k for k in gb if k in ga]:
            if gb[key] != ga[key]:
                parts.append(f"{_GEN_NAMES.get(key, key)}: {gb[key]} before, {ga[key]} after")
    elif (gb is None) != (ga is None):
        parts.append("one side was generated by a model, the other read from an outputs file")
    ob, oa = bool(before.get("offset_subtracted")), bool(after.get("offset_subtracted"))
    if ob != oa:
        parts.append(f"scorer offset subtracted {'before' if ob else 'after'} only")
    return "; ".join(parts) or None


def _gap_verdict(gap: dict, tost_adjusted: float, cfg: StatsConfig) -> str:
    """widened / narrowed (a real change of at least min_effect), unchanged, inconclusive."""
    ends = (gap["before"], gap["after"], gap["change"])
    if (gap["significant"] and all(map(math.isfinite, ends))
            and abs(gap["change"]) >= cfg.min_effect):
        return "widened" if abs(gap["after"]) > abs(gap["before"]) else "narrowed"
    if tost_adjusted < cfg.alpha:
        return "unchanged"
    return "inconclusive"


def _summary(result: dict, label: str) -> dict[str, Any]:
    return {"label": label, "model": result.get("model"), "flagged": bool(result["flagged"]),
            "verdict": result.get("verdict"),
            "signature": result.get("signature"), "run_id": result.get("run_id"),
            "gap": result.get("gap")}


def _moved_examples(before: dict, after: dict, scorer: str, top: int) -> list[dict]:
    eb, ea = load_examples(before), load_examples(after)
    if eb is None or ea is None or scorer not in eb or scorer not in ea:
        return []
    joined = eb.merge(ea, on="id", suffixes=("_before", "_after"))
    if joined.empty:
        return []
    joined["delta"] = joined[f"{scorer}_after"] - joined[f"{scorer}_before"]
    joined = joined.reindex(joined["delta"].abs().sort_values(ascending=False).index).head(top)
    return [{"id": r["id"], "group": r["group_before"], "prompt": r["prompt_before"],
             "before": r["output_before"], "after": r["output_after"],
             "score_before": r[f"{scorer}_before"], "score_after": r[f"{scorer}_after"],
             "delta": r["delta"]} for r in joined.to_dict("records")]


def compare_runs(project, before: dict[str, Any], after: dict[str, Any],
                 **kwargs: Any) -> dict[str, Any]:
    """:func:`compare_results` of two probe results, recorded as a ``bias-compare`` run
    (see :func:`record_comparison`): the comparison's ``run_id`` names it."""
    cmp = compare_results(before, after, **kwargs)
    record_comparison(project, cmp)
    return cmp


def record_comparison(project, cmp: dict[str, Any]) -> int:
    """Record a before/after comparison as a ``bias-compare`` run in the store (its
    result, and lineage from both probe runs), as every other command records its run;
    sets and returns ``cmp["run_id"]``."""
    from ..core.output import to_jsonable
    from ..core.store import Store

    store = Store.for_project(project)
    ids = [cmp[side].get("run_id") for side in ("before", "after")]
    ps = cmp["probe_set"]
    with store.record("bias-compare", name=f"{ps['name']} v{ps['version']}",
                      config={"before": ids[0], "after": ids[1], "probe_set": ps,
                              "settings": to_jsonable(cmp.get("settings"))}) as out:
        cmp["run_id"] = out["run_id"]
        out["result"] = to_jsonable(cmp)
    for rid in ids:
        if rid is not None:
            store.add_lineage(("run", rid), ("run", cmp["run_id"]), "compared")
    return cmp["run_id"]
