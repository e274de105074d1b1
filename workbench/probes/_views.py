"""What the app (and any other front end) shows of a probe run: a label naming the model,
data and generation settings, the three-way verdict in words, tables, saving a set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from ..core.errors import ConfigError

Tone = Literal["error", "warning", "success"]


def generation_of(run) -> str | None:
    """The generation settings a probe run used (``chat-greedy-32tok``), from its signature."""
    sig = str(((run.outputs or {}).get("result") or {}).get("signature") or "")
    found = re.search(r"gen:([^|\s]+)", sig)
    return found.group(1) if found else None


def probe_run_label(run) -> str:
    """``#12 · gender@v3 · run:4 · chat-greedy-32tok · 2026-12-02 08:00``: what a picker
    needs to tell two probe runs apart."""
    cfg = run.config or {}
    ps = cfg.get("probe_set") or {}
    data = f"{ps.get('name') or run.name}@v{ps.get('version', '?')}"
    model = cfg.get("model") or f"outputs file {Path(str(cfg.get('outputs') or '?')).name}"
    gen = generation_of(run) or ("as given" if not cfg.get("model") else None)
    samples = cfg.get("samples") or 1
    verdict = ((run.outputs or {}).get("result") or {}).get("verdict")
    parts = [f"#{run.id}", data, model, gen, f"{samples} samples" if samples > 1 else None,
             f"{run.started:%Y-%m-%d %H:%M}", verdict.upper() if verdict else None]
    return " · ".join(p for p in parts if p)


def verdict_message(result: dict[str, Any]) -> tuple[Tone, str]:
    """The probe's three-way verdict as (tone, sentence): flagged is an error, cleared a
    success, inconclusive a warning; an inconclusive result never reads as "no bias"."""
    s = result.get("settings") or {}
    verdict = result.get("verdict") or ("flagged" if result.get("flagged") else "inconclusive")
    if verdict == "flagged":
        return "error", (f"Flagged: some difference is significant (adjusted p < "
                         f"{s.get('alpha')}) and at least {s.get('min_effect')} "
                         f"({result.get('scorer')}) in size.")
    margin = s.get("margin")
    margin = s.get("min_effect") if margin is None or margin != margin else margin
    if verdict == "cleared":
        return "success", (f"Cleared: every difference between groups is shown to lie within "
                           f"±{margin:g} ({result.get('scorer')}), at alpha {s.get('alpha')}.")
    need = contexts_needed_text(result)
    return "warning", ("Inconclusive: the data cannot tell whether the groups differ. No "
                       f"difference is both significant and at least {s.get('min_effect')}, "
                       f"and none is shown to lie within ±{margin:g} either."
                       + (f" {need}" if need else ""))


def contexts_needed_text(result: dict[str, Any]) -> str:
    """How many contexts a decision would need at the observed spread (the largest over
    the inconclusive comparisons), or ``""`` when the result does not say."""
    diff = eq = 0
    near = False  # an inconclusive gap the run already has the contexts for: near the margin
    n = result.get("n_contexts")
    for c in result.get("comparisons") or []:
        need = c.get("needed") if c.get("verdict") == "inconclusive" else None
        if need:
            more = _more_needed(need, c.get("n_contexts") or n)
            diff, eq = max(diff, more.get("different", 0)), max(eq, more.get("equivalent", 0))
            near = near or not more
    if not (diff or eq):
        return ("The observed gap lies too close to the margin to call: more contexts narrow "
                "the interval, but a true gap near the margin stays undecided either way."
                if near else "")
    clauses = [f"about {diff} contexts to detect a gap of "
               f"{result['settings'].get('min_effect')}" if diff else None,
               f"about {eq} contexts to show equivalence if there is no gap" if eq else None]
    return ("At the observed spread a decision would need "
            + ", or ".join(c for c in clauses if c) + f" (this run has {n}).")


def _more_needed(need: dict[str, Any], n: int | None) -> dict[str, int]:
    """The contexts a decision needs (``different``, ``equivalent``) beyond the ``n`` the
    comparison has; none when the run has that many already (its gap is near the margin)."""
    out = {}
    for k in ("different", "equivalent"):
        got = (need.get(k) or {}).get("contexts")
        if got and (n is None or got > n):
            out[k] = got
    return out


def interval_label(result: dict[str, Any] | None) -> str:
    """The run's interval level as people write it (``"95%"``, ``"90%"``), from its
    ``settings.confidence_level`` (95% when a result does not say).

    >>> interval_label({"settings": {"confidence_level": 0.9}}), interval_label({})
    ('90%', '95%')
    """
    level = ((result or {}).get("settings") or {}).get("confidence_level") or 0.95
    return f"{float(level) * 100:g}%"


def group_rows(result: dict[str, Any]) -> list[dict]:
    """One row per group: n, mean and its interval (at the run's level)."""
    lvl = interval_label(result)
    return [{"group": g, "n": v["n"], "mean": v["mean"], f"{lvl} low": v["ci"][0],
             f"{lvl} high": v["ci"][1]} for g, v in result["groups"].items()]


COMPARISON_COLUMNS = ("a", "b", "verdict", "diff", "low", "high", "p_adjusted",
                      "tost_p_adjusted", "margin", "effect_size", "n_contexts", "power")


def comparison_rows(result: dict[str, Any]) -> list[dict]:
    """One row per group pair with its verdict first; ``ci`` as two columns."""
    lvl = interval_label(result)
    rows = interval_rows(result.get("comparisons") or [], level=lvl)
    cols = [f"{lvl} {c}" if c in ("low", "high") else c for c in COMPARISON_COLUMNS]
    return [{k: r.get(k) for k in cols if k in r} for r in rows]


def interval_rows(rows: list[dict], *, level: str = "95%") -> list[dict]:
    """Rows with their ``ci`` pair as ``<level> low`` / ``<level> high`` columns."""
    out = []
    for r in rows:
        r = dict(r)
        if isinstance(r.get("ci"), (list, tuple)):
            lo, hi = r.pop("ci")
            keys = list(r)
            r = {**{k: r[k] for k in keys}, f"{level} low": lo, f"{level} high": hi}
        out.append(r)
    return out


def _interval(diff, ci) -> str:
    if diff is None or not ci or ci[0] is None:
        return "—"
    return f"{diff:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def robustness_rows(result: dict[str, Any]) -> list[dict]:
    """One row per group pair: its verdict, in how many phrasings it holds (fragile when
    only one), the scorer's own offset on the control texts with its interval (and "may
    come from the scorer" when the gap lies within it), and the contexts a decision needs."""
    rows = []
    for c in result.get("comparisons") or []:
        ph = c.get("phrasings") or {}
        off = c.get("scorer_offset") or {}
        need = c.get("needed") if c.get("verdict") == "inconclusive" else None
        rows.append({
            "a": c["a"], "b": c["b"], "verdict": c.get("verdict"),
            "phrasings": ph.get("label") or "one phrasing",
            "fragile": "yes" if ph.get("fragile") else "",
            "scorer offset (controls)": _interval(off.get("diff"), off.get("ci"))
            + (" (subtracted)" if off.get("subtracted") else ""),
            "scorer": "may come from the scorer" if c.get("may_come_from_scorer") else "",
            "contexts needed": _needed_cell(need, c.get("n_contexts")),
        })
    return rows


def _needed_cell(need: dict[str, Any] | None, n: int | None) -> str:
    if not need:
        return ""
    more = _more_needed(need, n)
    if not more:
        return f"none beyond these {n}: the gap is too close to the margin to call"
    return " or ".join(f"{more[k]} to show {w}" for k, w in
                       (("different", "a difference"), ("equivalent", "equivalence")) if k in more)


def offset_rows(result: dict[str, Any]) -> list[dict]:
    """Each scorer's mean score per group on the neutral control texts, with its interval
    (at the run's level): what the scorer itself gives each group when the model says
    nothing."""
    lvl = interval_label(result)
    return [{"group": f"{g} ({name})" if len(result.get("offsets") or {}) > 1 else g,
             "offset": v["mean"], f"{lvl} low": v["ci"][0], f"{lvl} high": v["ci"][1],
             "n": v["n"]}
            for name, off in (result.get("offsets") or {}).items()
            for g, v in (off.get("groups") or {}).items()]


def agreement_text(result: dict[str, Any]) -> str:
    """Krippendorff's alpha between the scorers that ran, and the comparisons on whose sign
    they disagree; ``""`` with one scorer."""
    ka = result.get("scorer_agreement")
    if not ka:
        return ""
    text = ("Agreement between scorers (Krippendorff's alpha, interval): "
            + (f"{ka['alpha']:.2f} over {', '.join(ka['scorers'])}." if ka.get("alpha")
               is not None else f"not available ({ka.get('reason')})."))
    dis = result.get("sign_disagreements") or []
    if dis:
        text += " The scorers disagree on the sign of " + "; ".join(
            f"{d['a']} - {d['b']} (" + ", ".join(f"{n} favours {g}" for n, g in
                                                 d["favoured"].items()) + ")"
            for d in dis) + "."
    return text


def compare_message(cmp: dict[str, Any]) -> tuple[Tone, str]:
    """A before/after comparison's headline, in the three-way words."""
    if cmp.get("newly_flagged"):
        return "error", "The after-model is flagged and the before-model was not."
    if cmp.get("flagged"):
        return "error", "Both flagged: the after-model is still flagged."
    if cmp.get("verdict") == "cleared":
        return "success", "No new flag, and the after-model is cleared within the margin."
    return "warning", ("No new flag, but that is not evidence of fairness: the after-model "
                       "is not shown to be within the margin (inconclusive).")


def save_probe_set(project, text: str, *, where: str = "probe set") -> Path:
    """Validate ``text`` as a probe set and save it as the project's
    ``probesets/NAME.yaml``; returns the path."""
    from ._sets import expand, parse_probe_set_text

    ps = parse_probe_set_text(text, where=where)
    expand(ps)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", ps.name) or ps.name.startswith("."):
        raise ConfigError(f"{where}: name '{ps.name}' cannot be a file name; use letters, "
                          "digits, '-', '_' or '.'", param="name")
    folder = Path(project.root) / "probesets"
    folder.mkdir(exist_ok=True)
    path = folder / f"{ps.name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["COMPARISON_COLUMNS", "agreement_text", "offset_rows", "robustness_rows",
           "plan_rows", "compare_message", "comparison_rows",
           "contexts_needed_text", "generation_of", "group_rows", "interval_rows",
           "probe_run_label", "save_probe_set", "verdict_message"]


def plan_rows(plan, limit: int = 200) -> list[dict]:
    """The first ``limit`` prompts of an expanded probe set, one row each."""
    return [{"group": p.group, "phrase": p.phrase, "template": p.template, "prompt": p.text}
            for p in plan.prompts[:limit]]
