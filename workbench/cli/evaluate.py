"""``workbench evaluate``: a model on data, a predictions file, or two runs compared."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.output import write_json

JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")]
HtmlOpt = Annotated[Optional[str], typer.Option("--html", help="Write a self-contained HTML report to PATH.", metavar="PATH")]


def _progress():
    from tqdm import tqdm

    from ..core.output import show_progress

    bar = tqdm(total=0, desc="generating", unit="prompt", disable=not show_progress())

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _print_report(rep) -> None:
    from ..core.output import fmt
    from ._output import echo, table

    echo(table([[m, fmt(v, 4), f"[{fmt(rep.ci[m][0], 4)}, {fmt(rep.ci[m][1], 4)}]"
                  if m in rep.ci else "—"] for m, v in rep.metrics.items()],
                ["metric", "value", "95% interval"]))
    if rep.slices:
        names = list(rep.metrics)
        def cell(key, s, m):  # the slice's value and, when there is one, its interval
            lo_hi = rep.slice_ci.get(key, {}).get(m)
            v = fmt(s["metrics"].get(m), 3)
            return f"{v} [{fmt(lo_hi[0], 3)}, {fmt(lo_hi[1], 3)}]" if lo_hi else v

        echo(table([[k, s["n"], *[cell(k, s, m) for m in names]]
                    for k, s in rep.slices.items()], ["slice", "n", *names]))
    if rep.confusion:
        _print_confusion(rep.confusion)
    if rep.fairness:
        _print_fairness(rep.fairness)
    echo(f"n={rep.n}  signature: {rep.signature}")
    for w in rep.warnings:
        typer.echo(f"warning: {w}", err=True)


def _print_confusion(conf: dict) -> None:
    from ._output import echo, table

    labels = conf["labels"]
    echo("confusion matrix (rows: true label, columns: predicted label)")
    echo(table([[lab, *row] for lab, row in zip(labels, conf["matrix"])], ["true \\ pred", *labels]))


def _print_fairness(fair: dict) -> None:
    from ..core.output import fmt, fmt_p
    from ._output import echo, table

    def cell(m, g):
        lo, hi = fair["by_group_ci"][m][g]
        return f"{fmt(fair['by_group'][m][g], 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}]"

    rates = list(fair["by_group"])
    echo(f"fairness by {fair['group_col']} (positive label '{fair['positive_label']}')")
    echo(table([[g, fair["counts"][g], *[cell(m, g) for m in rates]] for g in fair["groups"]],
               ["group", "n", *rates]))
    echo(table([[k, fmt(d["value"], 4), f"[{fmt(d['ci'][0], 4)}, {fmt(d['ci'][1], 4)}]",
                 fmt_p(d["p_value"]), fmt_p(d["p_equivalent"]), d["verdict"]]
                for k, d in fair["differences"].items()],
               ["difference", "value", "95% interval", "p (differ)", "p (within margin)",
                "verdict"]))
    echo(f"fairness verdict: {fair['verdict']} (margin {fair['margin']:g}, "
         f"min effect {fair['min_effect']:g})")


def _print_compare(rep) -> None:
    from ..core.output import fmt, fmt_p
    from ._output import echo, table

    from ..evaluation import change_word, side_line

    rows = []
    for m, d in rep.differences.items():
        rows.append([m, fmt(d["a"], 4), fmt(d["b"], 4), fmt(d["diff"], 4),
                     f"[{fmt(d['ci'][0], 4)}, {fmt(d['ci'][1], 4)}]", fmt_p(d["p_value"]),
                     *([fmt_p(d["p_adjusted"])] if rep.correction else []),
                     change_word(d, rep.correction)])
    for name, side in (rep.sides or {}).items():
        echo(f"{name.upper()} = {side_line(side)}")
    echo(f"{rep.n} paired examples")
    echo(table(rows, ["metric", "A", "B", "B - A", "95% interval", "p",
                      *([f"p ({rep.correction})"] if rep.correction else []), "verdict"]))
    if rep.fairness:
        echo(table([[k, fmt(d["a"], 4), fmt(d["b"], 4), fmt(d["diff"], 4),
                     f"[{fmt(d['ci'][0], 4)}, {fmt(d['ci'][1], 4)}]", d["change"]]
                    for k, d in rep.fairness["differences"].items()],
                   ["fairness by " + rep.fairness["group_col"], "A", "B", "B - A",
                    "95% interval", "change"]))
    echo(f"signature: {rep.signature}")
    for w in rep.warnings:
        typer.echo(f"warning: {w}", err=True)


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        model: Annotated[Optional[str], typer.Option("--model", help="Model spec: tiny:gpt2, packaged:NAME, run:ID, a folder.")] = None,
        data: Annotated[Optional[str], typer.Option("--data", help="split:ID[:PART] (default part test), a dataset NAME[@VERSION] or a file.")] = None,
        predictions: Annotated[Optional[str], typer.Option("--predictions", help="Score a CSV/JSONL with prediction, reference [, id, slice columns] made elsewhere.")] = None,
        compare: Annotated[Optional[tuple[str, str]], typer.Option("--compare", help="Compare two evaluations of the same examples: A B (run:ID or a per-example file); reports B - A.")] = None,
        metrics: Annotated[Optional[str], typer.Option("--metrics", help="Comma list of accuracy, bleu, rouge, sentiment (default bleu,rouge; sentiment: VADER of the prediction itself, e.g. with --slice by group; exact-match accuracy of free text only when asked for; accuracy with --label-col); 'classification' scores a predictions file of labels; 'fairness' asks for --group-col metrics.")] = None,
        correct: Annotated[Optional[str], typer.Option("--correct", help="With --compare: adjust the p-values across the metrics: holm or bh (default none).")] = None,
        group_col: Annotated[Optional[str], typer.Option("--group-col", help="Classification fairness: per-group rates, parity and equalized-odds differences by this column (with --compare: before/after).")] = None,
        positive_label: Annotated[Optional[str], typer.Option("--positive-label", help="Fairness: the positive class (default the obvious one of two labels, e.g. 1 or pos).")] = None,
        slice_: Annotated[Optional[list[str]], typer.Option("--slice", help="Report metrics per value of this column (repeatable).")] = None,
        prompt_col: Annotated[str, typer.Option("--prompt-col", help="Column holding the prompt.")] = "question",
        reference_col: Annotated[str, typer.Option("--reference-col", help="Column holding the reference answer.")] = "answer",
        messages_col: Annotated[Optional[str], typer.Option("--messages-col", help="A column of conversations: generate each one's last assistant turn from the turns before it and score it against that turn.")] = None,
        label_col: Annotated[Optional[str], typer.Option("--label-col", help="Classification: score predictions against this label column.")] = None,
        template: Annotated[Optional[str], typer.Option("--template", help="Prompt template with {column} placeholders, e.g. 'Q: {question}\\nA:'.")] = None,
        stop: Annotated[Optional[list[str]], typer.Option("--stop", help="Cut each answer at this string (repeatable), e.g. --stop $'\\n'.")] = None,
        max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Tokens to generate per prompt.")] = 32,
        batch_size: Annotated[int, typer.Option("--batch-size", help="Prompts per batch (halves itself when memory runs out).")] = 16,
        chat: Annotated[Optional[bool], typer.Option("--chat/--no-chat", help="Wrap prompts with the model's chat template (default: when the model has one, as probes do).")] = None,
        sample: Annotated[bool, typer.Option("--sample", help="Sample instead of greedy decoding (seeded by --seed).")] = False,
        temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature.")] = 1.0,
        top_p: Annotated[float, typer.Option("--top-p", help="Nucleus sampling mass.")] = 1.0,
        seed: Annotated[int, typer.Option("--seed", help="Seed for the bootstrap and for sampling.")] = 0,
        n_resamples: Annotated[int, typer.Option("--n-resamples", help="Bootstrap resamples (>= 1000).")] = 1000,
        old_resamples: Annotated[Optional[int], typer.Option("--resamples", hidden=True, help="Old name of --n-resamples.")] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore the generation cache.")] = False,
        json_out: JsonOpt = None,
        html_out: HtmlOpt = None,
    ) -> None:
        """Score a model on a split (accuracy, BLEU, ROUGE with 95% bootstrap intervals; a
        classifier: accuracy, macro-F1, confusion matrix, fairness by --group-col), score
        predictions made elsewhere, or compare two evaluations (paired bootstrap)."""
        from ..core.errors import ConfigError, WorkbenchError
        from ._output import echo, get_project

        if old_resamples is not None:
            typer.echo("warning: --resamples is renamed --n-resamples; the old name still "
                       "works for now", err=True)
            n_resamples = old_resamples

        modes = [m for m, on in (("--model/--data", model or data), ("--predictions", predictions),
                                 ("--compare", compare)) if on]
        if len(modes) != 1:
            raise ConfigError(
                "evaluate: give exactly one of --model SPEC --data DATA, --predictions FILE or "
                f"--compare A B; got {' and '.join(modes) if modes else 'none'}")
        if compare:
            from ._output import same_run

            if same_run(*compare):
                raise ConfigError(f"--compare: A and B are the same {same_run(*compare)}; "
                                  "compare two different evaluations of the same examples")
        project = get_project()
        from .. import evaluation as ev
        from ..reports import write_compare_html, write_html

        if compare:
            rep = ev.compare(project, compare[0], compare[1], metrics=metrics,
                             n_resamples=n_resamples, seed=seed, group_col=group_col,
                             positive_label=positive_label, correct=correct)
            _print_compare(rep)
            write_json(json_out, {"run_id": rep.run_id, **rep.to_dict()})
            if html_out:
                echo(f"report: {write_compare_html(project, rep, html_out)}")
            return
        if predictions:
            rep = ev.evaluate_predictions(project, predictions, metrics=metrics,
                                          slices=slice_ or [], n_resamples=n_resamples, seed=seed,
                                          group_col=group_col, positive_label=positive_label)
        else:
            if not model or not data:
                raise ConfigError(f"evaluate: {'--data' if model else '--model'} is missing; "
                                  "a model evaluation needs --model SPEC and --data DATA")
            from ..generation import GenerationSettings
            from ..models import has_chat_template

            if chat is None:
                chat = has_chat_template(project, model)
            settings = GenerationSettings(max_new_tokens=max_new_tokens, do_sample=sample,
                                          temperature=temperature, top_p=top_p, seed=seed,
                                          batch_size=batch_size, chat=chat)
            try:
                if messages_col:
                    rep = ev.evaluate_conversations(
                        project, model=model, data=data, messages_col=messages_col,
                        metrics=metrics, slices=slice_ or [], stop=stop or [],
                        settings=settings, n_resamples=n_resamples, seed=seed,
                        use_cache=not no_cache, progress=_progress())
                else:
                    rep = ev.evaluate_model(
                        project, model=model, data=data, metrics=metrics,
                        prompt_col=prompt_col, reference_col=reference_col,
                        label_col=label_col, template=template, slices=slice_ or [],
                        stop=stop or [], settings=settings, n_resamples=n_resamples, seed=seed,
                        use_cache=not no_cache, progress=_progress(), group_col=group_col,
                        positive_label=positive_label)
            except WorkbenchError as exc:
                if getattr(exc, "param", None) == "messages_col":
                    raise type(exc)(f"--messages-col: {exc}", param=exc.param) from None
                raise
        _print_report(rep)
        echo(f"run {rep.run_id}: per-example records in "
             f"{project.runs_dir / str(rep.run_id) / 'examples.jsonl'}")
        from .probes import _refresh_cards

        _refresh_cards(project, rep.run_id)
        write_json(json_out, {"run_id": rep.run_id, **rep.to_dict()})
        if html_out:
            echo(f"report: {write_html(project, rep, html_out)}")
        if rep.fairness and rep.fairness.get("verdict") == "flagged":
            raise typer.Exit(1)  # bias flagged, as a flagged probe exits
