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

from ._cli_util import write_json
from ._errors import WorkbenchError

app = typer.Typer(
    name="workbench", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Data-prep, fine-tuning, evaluation and bias-audit workbench.",
)
data_app = typer.Typer(no_args_is_help=True, help="Import, list and inspect datasets.")
models_app = typer.Typer(no_args_is_help=True, help="List and prepare models.")
runs_app = typer.Typer(no_args_is_help=True, help="Inspect recorded runs.")
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
app.add_typer(runs_app, name="runs")

_STATE = {"debug": False, "project": None}

JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")]


@app.callback()
def _root(
    project: Annotated[Optional[Path], typer.Option("--project", "-p", help="Project folder (default: the one containing the current directory, or $WORKBENCH_PROJECT).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _STATE["debug"] = debug
    _STATE["project"] = project


def get_project():
    from .project import find_project

    return find_project(_STATE["project"])


def echo(msg: str = "") -> None:
    """Human-readable output; goes to stderr when ``--json -`` claims stdout."""
    typer.echo(msg, err=_STATE.get("json_stdout", False))


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- init
@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new project.")],
         name: Annotated[Optional[str], typer.Option(help="Project name.")] = None) -> None:
    """Make a new workbench project (checks/, reports/, state folder, config)."""
    from .project import init_project

    p = init_project(directory, name=name)
    echo(f"created project '{p.name}' at {p.root}")


# ----------------------------------------------------------------------------- data
@data_app.command("import")
def data_import(
    source: Annotated[Optional[str], typer.Argument(help="CSV, JSONL, Parquet, a datasets folder, or packaged:imdb|xsum|nq-open|boolq.")] = None,
    name: Annotated[Optional[str], typer.Option(help="Dataset name (default: from the source).")] = None,
    url: Annotated[Optional[str], typer.Option(help="SQLAlchemy URL for a SQL import.")] = None,
    sql: Annotated[Optional[str], typer.Option(help="SELECT query for a SQL import.")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV/JSONL files.")] = "utf-8",
    engine: Annotated[str, typer.Option(help="pandas, or spark for a Parquet/CSV file or folder too big for one process (stored as partitioned Parquet).")] = "pandas",
    spark_master: Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL (default local[*]).")] = None,
    json_out: JsonOpt = None,
) -> None:
    """Import data as an immutable, content-addressed dataset version."""
    from .data import import_dataset
    from .engines import check_engine

    if check_engine(engine) == "spark":
        from .spark_data import import_spark

        if url or sql:
            raise WorkbenchError("--engine spark: imports a Parquet/CSV file or folder, not --url/--sql")
        dv, created = import_spark(get_project(), source, name=name, master=spark_master)
    else:
        dv, created = import_dataset(get_project(), source, name=name, encoding=encoding,
                                     url=url, sql=sql)
    what = "imported" if created else "unchanged: already stored as"
    echo(f"{what} {dv.ref} ({dv.rows} rows, {len(dv.columns)} columns)")
    write_json(json_out, {**dv.to_dict(), "created": created})


@data_app.command("list")
def data_list(json_out: JsonOpt = None) -> None:
    """List stored datasets and their versions (newest first)."""
    from .store import Store

    versions = Store.for_project(get_project()).list_datasets()
    if versions:
        echo(_table([[v.name, v.version, v.rows, len(v.columns),
                      v.created.strftime("%Y-%m-%d %H:%M"), v.source[:60]] for v in versions],
                    ["name", "version", "rows", "cols", "created (UTC)", "source"]))
    else:
        echo("no datasets yet: import one with 'workbench data import FILE'")
    write_json(json_out, [v.to_dict() for v in versions])


@data_app.command("show")
def data_show(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
              rows: Annotated[int, typer.Option(help="Sample rows to show.")] = 5,
              json_out: JsonOpt = None) -> None:
    """Show a dataset version: schema, rows, lineage and a sample."""
    from .data import load_frame, sample
    from .store import Store

    project = get_project()
    dv, frame = load_frame(project, ref)
    lineage = Store.for_project(project).lineage(("dataset", dv.ref))
    echo(f"{dv.ref}  rows={dv.rows}  hash={dv.content_hash}\nsource: {dv.source}")
    echo(_table([[c["name"], c["dtype"], c["nulls"]] for c in dv.columns],
                ["column", "dtype", "nulls"]))
    for edge in lineage["parents"]:
        echo(f"derived from {edge['id']} ({edge['relation']})")
    with_pd_opts = frame.head(rows).to_string(max_colwidth=40)
    echo(with_pd_opts)
    write_json(json_out, {**dv.to_dict(), "lineage": lineage, "sample": sample(frame, rows)})


@data_app.command("export")
def data_export(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
                out: Annotated[Path, typer.Argument(help="File to write (.csv, .jsonl, .parquet), or a folder (no extension) for a datasets folder.")],
                format: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl, parquet or datasets (default: from OUT's extension).")] = None,
                force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
                json_out: JsonOpt = None) -> None:
    """Write a dataset version out; conversations keep their messages format."""
    from .data import export_format, export_version, get_version

    project = get_project()
    dv = get_version(project, ref)
    fmt = export_format(out, format)
    path = export_version(project, dv, out, format=fmt, force=force)
    echo(f"exported {dv.ref} ({dv.rows} rows) to {path} ({fmt})")
    write_json(json_out, {"dataset": dv.ref, "path": str(path), "format": fmt, "rows": dv.rows})


# ----------------------------------------------------------------------------- models
@models_app.command("list")
def models_list(json_out: JsonOpt = None) -> None:
    """List the models this project can use."""
    from .models import list_models

    infos = list_models(get_project())
    echo(_table([[m.spec, m.kind, "yes" if m.prepared else "no", m.description]
                 for m in infos], ["spec", "kind", "ready", "description"]))
    write_json(json_out, [{"spec": m.spec, "kind": m.kind, "path": str(m.path) if m.path else None,
                           "prepared": m.prepared, "description": m.description} for m in infos])


@models_app.command("prepare")
def models_prepare(spec: Annotated[str, typer.Argument(help="Model spec: folder, packaged:NAME, tiny:gpt2, run:ID or hub id.")],
                   json_out: JsonOpt = None) -> None:
    """Build or convert a model once into the project's model cache."""
    from .models import prepare_model

    def progress(msg: str) -> None:
        typer.echo(f"... {msg}", err=True)

    path = prepare_model(get_project(), spec, progress=progress)
    echo(f"{spec} ready at {path}")
    write_json(json_out, {"spec": spec, "path": str(path)})


# ----------------------------------------------------------------------------- runs
@runs_app.command("list")
def runs_list(kind: Annotated[Optional[str], typer.Option(help="Only runs of this kind.")] = None,
              limit: Annotated[int, typer.Option(help="How many.")] = 20,
              json_out: JsonOpt = None) -> None:
    """List recent runs from the store."""
    from .store import Store

    runs = Store.for_project(get_project()).list_runs(kind, limit=limit)
    echo(_table([[r.id, r.kind, r.name or "", r.status, r.started.strftime("%Y-%m-%d %H:%M:%S"),
                  f"{r.duration_s:.1f}s" if r.duration_s is not None else ""] for r in runs],
                ["id", "kind", "name", "status", "started (UTC)", "took"]) if runs else "no runs yet")
    write_json(json_out, [r.to_dict() for r in runs])


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id.")], json_out: JsonOpt = None) -> None:
    """Show one run with its config, outputs and lineage."""
    import json

    from .store import Store

    store = Store.for_project(get_project())
    run = store.get_run(run_id)
    payload = {**run.to_dict(), "lineage": store.lineage(("run", run.id))}
    echo(json.dumps(payload, indent=2, default=str))
    write_json(json_out, payload)


def _register_extensions() -> None:
    """Commands contributed by later modules live in ``workbench/commands/``."""
    from importlib import import_module
    from pkgutil import iter_modules

    from . import commands

    for mod in iter_modules(commands.__path__):
        import_module(f"{commands.__name__}.{mod.name}").register(app)


_register_extensions()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps errors to exit codes."""
    import click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _STATE["json_stdout"] = any(a == "--json" and b == "-" for a, b in zip(args, args[1:])) \
        or "--json=-" in args
    try:
        rv = app(args=args, prog_name="workbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return _exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return _exit(2)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return _exit(2)
    except WorkbenchError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
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


def _exit(code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    if __name__ != "__main__" and os.environ.get("_WORKBENCH_NO_EXIT"):
        return code
    raise SystemExit(code)


if __name__ == "__main__":
    main()
