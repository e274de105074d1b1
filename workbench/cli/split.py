"""``workbench split DATA --label COL ...``, ``split show ID`` and ``split list``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from ..core.output import write_json

JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write the manifest as JSON to PATH ('-' for stdout).", metavar="PATH")]


class _DefaultGroup(TyperGroup):
    """``workbench split DATA ...`` runs ``split make DATA ...``; ``show``/``list`` stay commands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["make", *args]
        return super().parse_args(ctx, args)


split_app = typer.Typer(
    cls=_DefaultGroup, no_args_is_help=True,
    help="Stratified, leak-free, reproducible splits. 'workbench split DATA --label COL' "
         "makes one (same as 'split make'); 'split show ID' prints a manifest.")


def _print_manifest(manifest: dict) -> None:
    from ..splits import leakage_rows
    from ._output import echo, table

    ds = manifest.get("dataset", {})
    parts = list(manifest["counts"])
    echo(f"split {manifest.get('run_id', '?')} of {ds.get('name')}@{ds.get('version')}  "
         f"seed={manifest['seed']}  ratios={','.join(f'{r:g}' for r in manifest['ratios'])}  "
         f"label={manifest.get('label') or '(none: random split)'}"
         + (f"  stratify={','.join(manifest['stratify'])}" if manifest.get("stratify") else "")
         + (f"  group={manifest['group']}" if manifest.get("group") else ""))
    rows = [[s, *[c[p] for p in parts], sum(c.values())]
            for s, c in manifest["strata"].items()]
    rows.append(["(all)", *[manifest["counts"][p] for p in parts],
                 sum(manifest["counts"].values())])
    echo(table(rows, ["stratum", *parts, "rows"]))
    if manifest.get("merged_strata"):
        echo(f"merged into 'other' (--min-stratum {manifest['min_stratum']}): "
             + ", ".join(manifest["merged_strata"]))
    lk = manifest.get("leakage") or {}
    if not lk.get("checked"):
        echo("leakage: not checked")
        return
    if lk.get("note"):
        echo(f"leakage: {lk['note']}")
        return
    ex, near, probe = lk["exact"], lk["near"], lk["probe_overlap"]
    echo(f"leakage (text: {', '.join(lk['text_columns'])}): "
         f"{ex['clusters']} exact-duplicate clusters ({ex['cross_split_clusters']} across "
         f"splits), {near['pairs']} near-duplicate pairs at jaccard >= {near['threshold']:g} "
         f"({near['cross_split_pairs']} across splits), {probe['rows']} rows containing "
         f"one of {probe['prompts']} probe prompts"
         + (" [--dedupe: duplicate clusters kept inside one split]" if lk.get("dedupe") else ""))
    cross = [r for r in leakage_rows(lk) if r["cross split"]][:5]
    if cross:
        echo(table([[r["kind"], r["rows"], r["splits"], r["text"][:70]] for r in cross],
                    ["leak", "rows", "splits", "text"]))
        if not lk.get("dedupe"):
            echo("pass --dedupe to keep each duplicate cluster inside one split")


@split_app.command("make")
def split_make(
    data: Annotated[str, typer.Argument(help="Stored dataset NAME[@VERSION] or a file (stored first).")],
    label: Annotated[Optional[str], typer.Option("--label", help="Label column to stratify on (optional: without it and --stratify, a plain random split).")] = None,
    stratify: Annotated[Optional[list[str]], typer.Option("--stratify", help="Extra column crossed with the label (repeatable).")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="Rows sharing this column's value never span two splits.")] = None,
    ratios: Annotated[str, typer.Option("--ratios", help="train,test or train,validation,test; positive, summing to 1.")] = "0.8,0.1,0.1",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives identical splits.")] = 0,
    min_stratum: Annotated[Optional[int], typer.Option("--min-stratum", help="Merge strata with fewer rows into one 'other' stratum.")] = None,
    text: Annotated[Optional[list[str]], typer.Option("--text", help="Input-text column for the leakage checks (repeatable; default: free-text columns).")] = None,
    near_threshold: Annotated[float, typer.Option("--near-threshold", help="Jaccard similarity (0-1] for near duplicates.")] = 0.8,
    dedupe: Annotated[bool, typer.Option("--dedupe", help="Keep each duplicate cluster inside one split.")] = False,
    fail_on_leak: Annotated[bool, typer.Option("--fail-on-leak", help="Exit 1 when duplicates span splits or probe prompts are in the data.")] = False,
    json_out: JsonOpt = None,
) -> None:
    """Make a stratified split of DATA and save it in the store (a random one when
    neither --label nor --stratify is given)."""
    from ..probes import probe_prompts
    from ..splits import make_split
    from ._output import echo, get_project

    project = get_project()
    rep = make_split(project, data, label=label, stratify=stratify or [], group=group,
                     ratios=ratios, seed=seed, min_stratum=min_stratum, text_columns=text,
                     near_threshold=near_threshold, dedupe=dedupe,
                     probe_prompts=probe_prompts(project))
    _print_manifest(rep.manifest)
    echo(f"saved split {rep.run_id} at {rep.path} (use it as split:{rep.run_id}:train)")
    write_json(json_out, rep.manifest)
    lk = rep.manifest["leakage"]
    if fail_on_leak and lk.get("checked") and (lk["cross_split"] or lk["probe_overlap"]["rows"]):
        raise typer.Exit(1)


@split_app.command("show")
def split_show(ident: Annotated[str, typer.Argument(metavar="ID", help="Split id (N or split:N).")],
               json_out: JsonOpt = None) -> None:
    """Print the manifest of a saved split."""
    from ..splits import get_split_run
    from ._output import echo, get_project

    run = get_split_run(get_project(), ident)
    _print_manifest(run.outputs["manifest"])
    echo(f"folder: {run.outputs['path']}")
    write_json(json_out, run.outputs["manifest"])


@split_app.command("list")
def split_list(json_out: JsonOpt = None) -> None:
    """List saved splits, newest first."""
    from ..splits import list_splits
    from ._output import echo, get_project, table

    runs = list_splits(get_project())
    if not runs:
        echo("no splits yet: make one with 'workbench split DATA --label COL'")
    else:
        echo(table([[r.id, r.name, r.config.get("label"), ",".join(r.config.get("stratify") or []),
                      ",".join(f"{x:g}" for x in r.config.get("ratios", [])), r.config.get("seed"),
                      " ".join(f"{k}={v}" for k, v in r.outputs["manifest"]["counts"].items()),
                      r.outputs["manifest"]["leakage"].get("cross_split", "")] for r in runs],
                    ["id", "dataset", "label", "stratify", "ratios", "seed", "counts",
                     "cross-split leaks"]))
    write_json(json_out, [{"id": r.id, **r.outputs["manifest"]} for r in runs])


def register(app: typer.Typer) -> None:
    app.add_typer(split_app, name="split")
