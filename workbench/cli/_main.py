"""The ``workbench`` command line.

Exit codes: 0 ok; 1 checks failed or bias flagged; 2 bad input or config (one line on
stderr, no traceback unless ``--debug``); 3 an internal error (a bug).
This module must stay light: ``workbench --help`` imports no torch, transformers,
great_expectations or evaluate. Commands import what they need inside their bodies.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import WorkbenchError
from . import check, clean, data, evaluate, models, probes, runs, schedule, split, train
from ._output import STATE, echo

app = typer.Typer(
    name="workbench", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Data-prep, fine-tuning, evaluation and bias-audit workbench.",
)


@app.callback()
def _root(
    project: Annotated[Optional[Path], typer.Option("--project", "-p", help="Project folder (default: the one containing the current directory, or $WORKBENCH_PROJECT).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    STATE["debug"] = debug
    STATE["project"] = project


# ----------------------------------------------------------------------------- init
@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new project.")],
         name: Annotated[Optional[str], typer.Option(help="Project name.")] = None) -> None:
    """Make a new workbench project (checks/, reports/, state folder, config)."""
    from ..core.project import init_project

    p = init_project(directory, name=name)
    echo(f"created project '{p.name}' at {p.root}")


for _module in (data, check, clean, split, train, evaluate, probes, schedule, models, runs):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps errors to exit codes."""
    import click

    try:  # typer vendors its own click; its usage errors are not click's classes
        from typer._click import exceptions as _vendored
        usage_errors = (click.ClickException, _vendored.ClickException)
    except ImportError:
        usage_errors = (click.ClickException,)
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    STATE["json_stdout"] = any(a == "--json" and b == "-" for a, b in zip(args, args[1:])) \
        or "--json=-" in args
    try:
        rv = app(args=args, prog_name="workbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return _exit(exc.exit_code)
    except usage_errors as exc:
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:  # a usage error: one line, with where to look
            typer.echo(f"error: {exc.format_message()} (see '{ctx.command_path} --help')",
                       err=True)
        else:
            exc.show()
        return _exit(2)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return _exit(2)
    except WorkbenchError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {_flagged(exc)}", err=True)
        return _exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return _exit(130)
    except Exception as exc:  # noqa: BLE001 - last resort, never a bare traceback
        if debug:
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        typer.echo(f"internal error: {type(exc).__name__}: {first} (rerun with --debug "
                   "for the traceback)", err=True)
        return _exit(3)
    return _exit(rv if isinstance(rv, int) else 0)


def _flagged(exc: WorkbenchError) -> str:
    """The message with its parameter shown as the flag a CLI user typed (``--min-stratum``)."""
    if not exc.param:
        return str(exc)
    return exc.labelled("--" + exc.param.replace("_", "-"))


def _exit(code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    if __name__ != "__main__" and os.environ.get("_WORKBENCH_NO_EXIT"):
        return code
    raise SystemExit(code)


if __name__ == "__main__":
    main()
