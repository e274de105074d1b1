"""What a mitigation bought and what it cost: base, raw fine-tune and mitigated fine-tune.

Three probe runs of the same probe set (the base model, the model fine-tuned on the raw
data, the model fine-tuned on the augmented data) are compared pairwise with
:func:`compare_results`; the quality side is a paired comparison of two evaluation runs
(raw vs mitigated fine-tune), given as the ``CompareReport.to_dict()`` of
``workbench.evaluation.compare``. The summary says, in words a reviewer can sign, which gaps
the fine-tune learned, which the mitigation narrowed, and what it cost in quality, each
with its interval and verdict.
"""

from __future__ import annotations

import math
from typing import Any

from ..core.errors import ConfigError
from ._compare import compare_results
from ._stats import StatsConfig

_GAP_WORDS = {
    "widened": "widened",
    "narrowed": "narrowed",
    "unchanged": "left unchanged (shown within the margin)",
    "inconclusive": "changed by an amount the data cannot pin down (inconclusive)",
}


def _ci(ci) -> str:
    lo, hi = ci
    return f"[{lo:+.3f}, {hi:+.3f}]"


def _gap_lines(cmp: dict, what: str) -> list[str]:
    out = []
    for g in cmp["gaps"]:
        if not all(map(math.isfinite, (g["before"], g["after"]))):
            continue
        out.append(f"{what} {_GAP_WORDS.get(g['verdict'], g['verdict'])} the {g['a']} vs "
                   f"{g['b']} gap: {g['before']:+.3f} -> {g['after']:+.3f} (change "
                   f"{g['change']:+.3f} {_ci(g['ci'])}, {g['n_contexts']} contexts)")
    return out


def _utility_lines(utility: dict | None) -> list[str]:
    if not utility:
        return ["quality: not measured (give the two fine-tunes' evaluation runs to see what "
                "the mitigation cost)"]
    out = []
    for name, d in sorted(utility.get("metrics", {}).items()):
        lo, hi = d["ci"]
        if lo > 0:
            word = "rose"
        elif hi < 0:
            word = "fell"
        else:
            word = "did not change detectably"
        out.append(f"quality: {name} {word}: {d['a']:.3f} -> {d['b']:.3f} (change "
                   f"{d['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}], {utility.get('n', '?')} examples)")
    return out


def mitigation_report(base: dict[str, Any], raw: dict[str, Any], mitigated: dict[str, Any], *,
                      utility: dict[str, Any] | None = None,
                      config: StatsConfig | None = None,
                      labels: tuple[str, str, str] = ("base", "raw fine-tune",
                                                      "mitigated fine-tune"),
                      ) -> dict[str, Any]:
    """Compare three probe results (and, optionally, the quality of the two fine-tunes).

    Parameters
    ----------
    base, raw, mitigated : probe results (``load_result``) of the same probe set, probed the
        same way.
    utility : ``CompareReport.to_dict()`` of the raw fine-tune's evaluation (A) against the
        mitigated fine-tune's (B), on the same examples.
    config : the statistics settings (margin, alpha, correction).

    Returns
    -------
    dict with the three pairwise comparisons (``learned``: base -> raw, ``bought``: raw ->
    mitigated, ``overall``: base -> mitigated), each run's verdict, the utility comparison and
    ``summary``: one sentence per finding.
    """
    results = (base, raw, mitigated)
    ids = [r.get("run_id") for r in results]
    for i in range(3):
        for j in range(i + 1, 3):
            if ids[i] is not None and ids[i] == ids[j]:
                raise ConfigError(f"mitigation report: the {labels[i]} and the {labels[j]} are "
                                  f"the same probe run ({ids[i]}); give three different runs")
    names = {(r["probe_set"]["name"], r["probe_set"]["version"]) for r in results}
    if len(names) > 1:
        shown = ", ".join(f"{lab}: {r['probe_set']['name']} v{r['probe_set']['version']}"
                          for lab, r in zip(labels, results))
        raise ConfigError(f"mitigation report: the three runs used different probe sets "
                          f"({shown}); probe all three models with the same set")
    learned = compare_results(base, raw, config=config, before_label=labels[0],
                              after_label=labels[1])
    bought = compare_results(raw, mitigated, config=config, before_label=labels[1],
                             after_label=labels[2])
    overall = compare_results(base, mitigated, config=config, before_label=labels[0],
                              after_label=labels[2])
    verdicts = {lab: {"verdict": r.get("verdict") or ("flagged" if r.get("flagged")
                                                      else "inconclusive"),
                      "gap": r.get("gap"), "run_id": r.get("run_id")}
                for lab, r in zip(labels, results)}
    summary = [f"{lab}: {v['verdict']}" + (f" (run {v['run_id']})" if v["run_id"] else "")
               for lab, v in verdicts.items()]
    summary += _gap_lines(learned, "fine-tuning on the raw data")
    summary += _gap_lines(bought, "the mitigation (against the raw fine-tune)")
    summary += _utility_lines(utility)
    return {
        "labels": list(labels), "probe_set": base["probe_set"], "scorer": learned["scorer"],
        "verdicts": verdicts, "learned": learned, "bought": bought, "overall": overall,
        "utility": utility, "summary": summary,
        "signature": bought["signature"] + (f"|utility:{utility['signature']}"
                                            if utility and utility.get("signature") else ""),
    }
