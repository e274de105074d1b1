"""``workbench data import | list | show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import ConfigError
from ..core.output import write_json
from ._output import JsonOpt, echo, get_project, table

data_app = typer.Typer(no_args_is_help=True, help="Import, list and inspect datasets.")


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
    from ..core.engines import check_engine
    from ..data import import_dataset, import_notes

    if check_engine(engine) == "spark":
        from ..data import import_spark

        if url or sql:
            raise ConfigError("--engine spark: imports a Parquet/CSV file or folder, not --url/--sql")
        dv, created = import_spark(get_project(), source, name=name, master=spark_master)
    else:
        dv, created = import_dataset(get_project(), source, name=name, encoding=encoding,
                                     url=url, sql=sql)
    what = "imported" if created else "unchanged: already stored as"
    echo(f"{what} {dv.ref} ({dv.rows} rows, {len(dv.columns)} columns)")
    notes = import_notes(dv)
    for note in notes:
        echo(f"note: {note}")
    write_json(json_out, {**dv.to_dict(), "created": created, "notes": notes})


@data_app.command("list")
def data_list(json_out: JsonOpt = None) -> None:
    """List stored datasets and their versions (newest first)."""
    from ..core.store import Store

    versions = Store.for_project(get_project()).list_datasets()
    if versions:
        echo(table([[v.name, v.version, v.rows, len(v.columns),
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
    from ..core.store import Store
    from ..data import load_frame, preview, sample

    project = get_project()
    dv, frame = load_frame(project, ref)
    lineage = Store.for_project(project).lineage(("dataset", dv.ref))
    echo(f"{dv.ref}  rows={dv.rows}  hash={dv.content_hash}\nsource: {dv.source}")
    echo(table([[c["name"], c["dtype"], c["nulls"]] for c in dv.columns],
                ["column", "dtype", "nulls"]))
    for edge in lineage["parents"]:
        echo(f"derived from {edge['id']} ({edge['relation']})")
    echo(preview(frame, rows).to_string(max_colwidth=40))   # turns, not Python's repr
    write_json(json_out, {**dv.to_dict(), "lineage": lineage, "sample": sample(frame, rows)})


@data_app.command("export")
def data_export(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
                out: Annotated[Path, typer.Argument(help="File to write (.csv, .jsonl, .parquet), or a folder (no extension) for a datasets folder.")],
                format: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl, parquet or datasets (default: from OUT's extension).")] = None,
                force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
                json_out: JsonOpt = None) -> None:
    """Write a dataset version out; conversations keep their messages format."""
    from ..data import export_format, export_version, get_version

    project = get_project()
    dv = get_version(project, ref)
    fmt = export_format(out, format)
    path = export_version(project, dv, out, format=fmt, force=force)
    echo(f"exported {dv.ref} ({dv.rows} rows) to {path} ({fmt})")
    write_json(json_out, {"dataset": dv.ref, "path": str(path), "format": fmt, "rows": dv.rows})


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
