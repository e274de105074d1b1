"""``workbench models list | prepare``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.output import write_json
from ._output import JsonOpt, echo, get_project, table

models_app = typer.Typer(no_args_is_help=True, help="List and prepare models.")


@models_app.command("list")
def models_list(json_out: JsonOpt = None) -> None:
    """List the models this project can use."""
    from ..models import list_models

    infos = list_models(get_project())
    echo(table([[m.spec, m.kind, "yes" if m.prepared else "no", m.description]
                 for m in infos], ["spec", "kind", "ready", "description"]))
    write_json(json_out, [{"spec": m.spec, "kind": m.kind, "path": str(m.path) if m.path else None,
                           "prepared": m.prepared, "description": m.description} for m in infos])


@models_app.command("prepare")
def models_prepare(spec: Annotated[str, typer.Argument(help="Model spec: folder, packaged:NAME, tiny:gpt2, run:ID or hub id.")],
                   json_out: JsonOpt = None) -> None:
    """Build or convert a model once into the project's model cache."""
    from ..models import prepare_model

    def progress(msg: str) -> None:
        typer.echo(f"... {msg}", err=True)

    path = prepare_model(get_project(), spec, progress=progress)
    echo(f"{spec} ready at {path}")
    write_json(json_out, {"spec": spec, "path": str(path)})


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
