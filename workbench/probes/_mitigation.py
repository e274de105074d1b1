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
from collections.abc import Callable
from typing import Any

from ..core.errors import ConfigError
from ..models import trained_run_id
from ._compare import compare_results
from ._stats import StatsConfig

ROLES = ("base", "raw", "mitigated")  # the parameters naming the three probe runs
_WHOSE = {"base": "the base model's", "raw": "the raw fine-tune's",
          "mitigated": "the mitigated fine-tune's"}

_GAP_WORDS = {  # verdict -> (verb, what follows "the a vs b gap")
    "widened": ("widened", ""),
    "narrowed": ("narrowed", ""),
    "unchanged": ("left", " unchanged (shown within the margin)"),
    "inconclusive": ("changed", " by an amount the data cannot pin down (inconclusive)"),
}


def _ci(ci) -> str:
    lo, hi = ci
    return f"[{lo:+.3f}, {hi:+.3f}]"


def _gap_lines(cmp: dict, what: str) -> list[str]:
    out = []
    for g in cmp["gaps"]:
        if not all(map(math.isfinite, (g["before"], g["after"]))):
            continue
        verb, rest = _GAP_WORDS.get(g["verdict"], (g["verdict"], ""))
        out.append(f"{what} {verb} the {g['a']} vs {g['b']} gap{rest}: {g['before']:+.3f} -> "
                   f"{g['after']:+.3f} (change "
                   f"{g['change']:+.3f} {_ci(g['ci'])}, {g['n_contexts']} contexts)")
    return out


def _utility_lines(utility: dict | None) -> list[str]:
    if not utility:
        return [("quality: not measured (give the two fine-tunes' evaluation runs to see what "
                 "the mitigation cost)")]
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


def _run_key(ref: str | int) -> str:
    """``6``, ``run:6`` and `` 6 `` name one run; two spellings of a path name one file."""
    text = str(ref).strip()
    bare = text.removeprefix("run:")
    if bare.isdigit():
        return f"run {int(bare)}"
    from pathlib import Path

    return str(Path(text).expanduser().resolve())


def mitigation_from_runs(project, base: str | int, raw: str | int, mitigated: str | int, *,
                         eval_raw: str | int | None = None,
                         eval_mitigated: str | int | None = None,
                         margin: float | None = None) -> dict[str, Any]:
    """The mitigation report of three stored probe runs (ids, ``run:ID`` or result JSON
    files) and, optionally, the two fine-tunes' evaluation runs on the same examples.

    What the CLI's ``mitigation-report`` and the app's Bias probes page both call: three
    different runs are required, the two evaluations go together and must differ, and the
    statistics settings come from the project (``margin`` overrides its equivalence margin).
    """
    refs = dict(zip(ROLES, (base, raw, mitigated)))
    for i, a in enumerate(ROLES):
        for b in ROLES[i + 1:]:
            if _run_key(refs[a]) == _run_key(refs[b]):
                raise ConfigError(f"{b}: the same probe run as {_WHOSE[a]} "
                                  f"({_run_key(refs[a])}); give three different runs", param=b)
    if (eval_raw is None) != (eval_mitigated is None):
        missing = "eval_raw" if eval_raw is None else "eval_mitigated"
        raise ConfigError(f"{missing.replace('_', ' ')}: missing; the quality cost compares "
                          "the two fine-tunes' evaluations, so give both or neither",
                          param=missing)
    from ._run import load_result

    results = [load_result(project, str(refs[r])) for r in ROLES]
    utility = None
    if eval_raw is not None:
        if _run_key(eval_raw) == _run_key(eval_mitigated):
            raise ConfigError(f"eval mitigated: the same run as the raw fine-tune's evaluation "
                              f"({_run_key(eval_raw)}); give each fine-tune's own evaluation",
                              param="eval_mitigated")
        from ..evaluation import compare

        cmp = compare(project, str(eval_raw), str(eval_mitigated))  # recorded as a run
        utility = {"run_id": cmp.run_id, **cmp.to_dict()}
    cfg = StatsConfig.from_project(project, equivalence_margin=margin)
    return mitigation_report(*results, utility=utility, config=cfg)


def mitigation_defaults(probe_runs: list, eval_runs: list = (), *,
                        trained_from: Callable[[str], tuple[str | None, str | None]]
                        | None = None) -> dict[str, Any]:
    """Preset picks for a front end: positions in ``probe_runs`` (newest first) of the base,
    raw and mitigated runs, and the evaluation run ids matching the two fine-tunes' models.

    The mitigated run is the newest probe run of a fine-tuned ``run:ID`` model, the raw one
    the next older run of another fine-tune on the same probe set, the base the newest run
    of that set whose model is not a fine-tune. With ``trained_from`` (a fine-tune's model
    spec -> the model it was trained from and the name of its training data) the raw
    fine-tune is one of the same base model trained on other data, and the base run is
    that model's. Each evaluation is the newest one of the same model (``None`` when there
    is none).
    """
    def probe_set(r):
        return ((r.config or {}).get("probe_set") or {}).get("name")

    def model(r):
        return str((r.config or {}).get("model") or "")

    def origin(spec: str) -> tuple[str | None, str | None]:
        return trained_from(spec) if trained_from is not None else (None, None)

    n = len(probe_runs)
    picks = {"base": min(2, n - 1), "raw": min(1, n - 1), "mitigated": 0}
    for i, m in enumerate(probe_runs):
        if trained_run_id(model(m)) is None:
            continue
        root, data = origin(model(m))
        peers = [j for j, r in enumerate(probe_runs) if j > i and probe_set(r) == probe_set(m)]
        raw = next((j for j in peers if trained_run_id(model(probe_runs[j])) is not None
                    and model(probe_runs[j]) != model(m)
                    and origin(model(probe_runs[j]))[0] == root
                    and (data is None or origin(model(probe_runs[j]))[1] != data)), None)
        base = next((j for j in peers if trained_run_id(model(probe_runs[j])) is None
                     and (root is None or model(probe_runs[j]) == root)), None)
        if raw is not None and base is not None:
            picks = {"base": base, "raw": raw, "mitigated": i}
            break
    evals = {}
    for role in ("raw", "mitigated"):
        want = model(probe_runs[picks[role]]) if n else None
        evals[role] = next((e.id for e in eval_runs if want and model(e) == want), None)
    return {**picks, "eval_raw": evals["raw"], "eval_mitigated": evals["mitigated"]}
