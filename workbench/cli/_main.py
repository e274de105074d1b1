"""The ``workbench`` command line.

Exit codes: 0 ok; 1 checks failed or bias flagged; 2 bad input or config (one line on
stderr, no traceback unless ``--debug``); 3 an internal error (a bug).
This module must stay light: ``workbench --help`` imports no torch, transformers,
great_expectations or evaluate. Commands import what they need inside their bodies.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import traceback
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

try:  # typer >= 0.20 raises the exceptions of the click it vendors
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover - an older typer uses click itself
    from click import exceptions as _click_exc

from ..core.errors import RenamedKeyWarning, WorkbenchError, did_you_mean
from . import check, clean, data, evaluate, models, probes, review, runs, schedule, split, train
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


for _module in (data, check, clean, split, train, evaluate, probes, review, schedule, models,
                runs):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps errors to exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    STATE["argv"] = args
    debug = "--debug" in args
    STATE["json_stdout"] = any(a == "--json" and b == "-" for a, b in zip(args, args[1:])) \
        or "--json=-" in args
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(warnings.showwarning)
            rv = app(args=args, prog_name="workbench", standalone_mode=False)
    except _EXIT as exc:
        return _exit(exc.exit_code)
    except _USAGE as exc:
        if getattr(exc, "ctx", None) is not None and _is_help_request(exc):
            exc.show()
            return _exit(2)
        try:
            line = usage_line(exc)
        except Exception:  # noqa: BLE001 - never let the message itself become the bug
            line = f"workbench: {' '.join(exc.format_message().split())}"
        typer.echo(line, err=True)
        return _exit(2)
    except _CLICK as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        return _exit(2)
    except _ABORT:
        typer.echo("aborted", err=True)
        return _exit(2)
    except WorkbenchError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {error_line(exc, args)}", err=True)
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


def _one_line_warning(show):
    """``showwarning`` that prints a renamed config key as one ``warning:`` line on stderr
    (the message names file, line and new key), and anything else as ``show`` would."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RenamedKeyWarning):
            typer.echo(f"warning: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)
    return showwarning


# typer raises its vendored click's exceptions; a plain click install may raise its own
_EXIT: tuple = (typer.Exit,)
_USAGE: tuple = (_click_exc.UsageError,)
_CLICK: tuple = (_click_exc.ClickException,)
_ABORT: tuple = (typer.Abort,)
try:  # pragma: no cover - depends on the installed typer
    import click as _click

    _EXIT += (_click.exceptions.Exit,)
    _USAGE += (_click.UsageError,)
    _CLICK += (_click.ClickException,)
    _ABORT += (_click.exceptions.Abort,)
except ImportError:  # pragma: no cover
    pass


def _is_help_request(exc) -> bool:
    """``workbench data`` alone prints that group's help (click's no_args_is_help)."""
    return type(exc).__name__ == "NoArgsIsHelpError"


def _suggest(name: str, choices) -> str:
    """`` (did you mean --probes?)`` for the closest choice, or ``""``."""
    choices = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if not close:
        close = [c for c in choices if c.startswith(name) or name.startswith(c + "=")][:1]
    return f" (did you mean {close[0]}?)" if close else ""


def _long_options(command) -> list[str]:
    return [o for p in getattr(command, "params", []) if not getattr(p, "hidden", False)
            for o in (*p.opts, *p.secondary_opts) if o.startswith("--")] + ["--help"]


def _implied(ctx) -> bool:
    """Was ``ctx``'s command inserted by a default group (``check DATA`` = ``check run DATA``)?"""
    parent = ctx.parent
    if parent is None or parent.parent is None:
        return False
    return ctx.info_name not in STATE.get("argv", [])


def usage_line(exc) -> str:
    """One line for a usage error: which command, what was wrong, what was meant."""
    ctx = getattr(exc, "ctx", None)
    if ctx is None:  # raised while parsing options, before a context existed
        where = _command_for(STATE.get("argv", []))[1]
        message = " ".join(exc.format_message().split())
        return f"{where}: {message[:1].lower() + message[1:]}"
    implied = _implied(ctx)
    where = ctx.parent.command_path if implied else ctx.command_path
    if isinstance(exc, _click_exc.NoSuchOption) or type(exc).__name__ == "NoSuchOption":
        opt = exc.option_name
        shown = _long_options(ctx.command)
        close = [o for o in exc.possibilities or () if o in shown]  # best first, not hidden
        hint = f" (did you mean {close[0]}?)" if close else _suggest(opt, shown)
        return f"{where}: no such option {opt}{hint}{getattr(exc, 'hint', '')}"
    message = " ".join(exc.format_message().split())
    unknown = re.match(r"No such command '(.*?)'", message)
    if unknown:
        name = unknown.group(1)
        commands = ctx.command.list_commands(ctx)
        return (f"{where}: no such command '{name}'{did_you_mean(name, commands)}; "
                f"commands: {', '.join(commands)}")
    if implied:  # `check histroy` reached `check run` with DATA=histroy
        meant = _mistyped_subcommand(ctx)
        if meant:
            return meant
    extra = re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.+)\)$", message)
    if extra:  # `probe list`: the command of a sibling group (`probes list`)
        sibling = _sibling_group_command(ctx, extra.group(1).split()[0])
        if sibling:
            return (f"{where}: got unexpected extra argument(s) ({extra.group(1)}) "
                    f"(did you mean '{sibling}'?)")
    p = getattr(exc, "param", None)
    if type(exc).__name__ == "MissingParameter" and p is not None:
        kind = "option" if _is_option(p) else "argument"
        return f"{where}: missing {kind} {_param_label(p)}"
    if type(exc).__name__ == "BadParameter" and p is not None:
        return f"{where}: {_param_label(p)}: {' '.join(str(exc.message).split())}"
    return f"{where}: {message[:1].lower() + message[1:] if message else 'bad usage'}"


def _is_option(p) -> bool:
    return getattr(p, "param_type_name", "") == "option"


def _param_label(p) -> str:
    """``--suite`` for an option, ``DATA`` for an argument."""
    if _is_option(p):
        return next((o for o in p.opts if o.startswith("--")), p.opts[0])
    return str(getattr(p, "metavar", None) or p.name).upper()


def _sibling_group_command(ctx, token: str) -> str | None:
    """``workbench probes list`` when ``workbench probe list`` was typed: a group named
    like the command (``probe`` -> ``probes``) that has ``token`` as a command."""
    parent = ctx.parent
    if parent is None or not hasattr(parent.command, "list_commands"):
        return None
    names = [n for n in parent.command.list_commands(parent) if n != ctx.info_name]
    for name in difflib.get_close_matches(ctx.info_name, names, n=3, cutoff=0.8):
        group = parent.command.get_command(parent, name)
        if hasattr(group, "list_commands") and token in group.list_commands(parent):
            return f"{parent.command_path} {name} {token}"
    return None


def _mistyped_subcommand(ctx) -> str | None:
    group = ctx.parent
    args = STATE.get("argv", [])
    try:
        token = args[args.index(group.info_name) + 1]
    except (ValueError, IndexError):
        return None
    commands = [c for c in group.command.list_commands(group) if c != ctx.info_name]
    if token.startswith("-") or Path(token).exists() or \
            not difflib.get_close_matches(token, commands, n=1, cutoff=0.7):
        return None
    return (f"{group.command_path}: no such command '{token}'{did_you_mean(token, commands)}; "
            f"commands: {', '.join(group.command.list_commands(group))}")


def _command_for(args: list[str]):
    """``(command, path)`` that ``args`` invoke (parsed again, leniently)."""
    cmd = typer.main.get_command(app)
    ctx = None
    try:
        ctx = cmd.make_context("workbench", list(args), resilient_parsing=True)
        while hasattr(ctx.command, "resolve_command"):
            rest = [*ctx._protected_args, *ctx.args] if hasattr(ctx, "_protected_args") \
                else [*ctx.protected_args, *ctx.args]
            if not rest:
                break
            name, sub, rest = ctx.command.resolve_command(ctx, rest)
            if sub is None:
                break
            ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=True)
    except Exception:  # noqa: BLE001, S110 - a best effort for a nicer message only
        pass
    if ctx is None:
        return None, "workbench"
    return ctx.command, (ctx.parent.command_path if _implied(ctx) else ctx.command_path)


def flag_for(args: list[str], param: str) -> str | None:
    """The flag (``--ratios``) or argument (``DATA``) of the invoked command named ``param``."""
    command = _command_for(args)[0]
    wanted = param.replace("-", "_")
    for p in getattr(command, "params", []):
        if p.name == wanted or f"--{param.replace('_', '-')}" in p.opts:
            return _param_label(p)
    return None


def error_line(exc: WorkbenchError, args: list[str]) -> str:
    """The one line for a library error; an error about a parameter names its flag."""
    message = str(exc) or type(exc).__name__
    param = getattr(exc, "param", None)
    if not param:
        return message
    flag = flag_for(args, param)  # a param that is no flag here (a config field) stays as is
    if not flag or message.startswith(flag):
        return message
    return exc.labelled(flag)  # "ratios: must ..." -> "--ratios: must ..."


def _exit(code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    if __name__ != "__main__" and os.environ.get("_WORKBENCH_NO_EXIT"):
        return code
    raise SystemExit(code)


if __name__ == "__main__":
    main()
