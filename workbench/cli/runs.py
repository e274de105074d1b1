"""``workbench runs list | show``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.output import write_json
from ._output import JsonOpt, echo, get_project, table

runs_app = typer.Typer(no_args_is_help=True, help="Inspect recorded runs.")


@runs_app.command("list")
def runs_list(kind: Annotated[Optional[str], typer.Option(help="Only runs of this kind.")] = None,
              limit: Annotated[int, typer.Option(help="How many.")] = 20,
              json_out: JsonOpt = None) -> None:
    """List recent runs from the store."""
    from ..core.store import Store

    runs = Store.for_project(get_project()).list_runs(kind, limit=limit)
    echo(table([[r.id, r.kind, r.name or "", r.status, r.started.strftime("%Y-%m-%d %H:%M:%S"),
                  f"{r.duration_s:.1f}s" if r.duration_s is not None else ""] for r in runs],
                ["id", "kind", "name", "status", "started (UTC)", "took"]) if runs else "no runs yet")
    write_json(json_out, [r.to_dict() for r in runs])


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id.")], json_out: JsonOpt = None) -> None:
    """Show one run with its config, outputs and lineage."""
    import json

    from ..core.store import Store

    store = Store.for_project(get_project())
    run = store.get_run(run_id)
    payload = {**run.to_dict(), "lineage": store.lineage(("run", run.id))}
    echo(json.dumps(payload, indent=2, default=str))
    write_json(json_out, payload)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
