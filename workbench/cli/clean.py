"""`workbench clean DATA --rules FILE`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def clean(
    data: Annotated[str, typer.Argument(help="A stored dataset NAME[@VERSION] or a file path.")],
    rules: Annotated[str, typer.Option("--rules", "-r", help="YAML with a 'clean:' list (a suite file or its own file).")],
    name: Annotated[Optional[str], typer.Option(help="Dataset name for the result (default: the same name, a new version).")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", metavar="PATH", help="Write the summary as JSON to PATH ('-' for stdout).")] = None,
    engine: Annotated[str, typer.Option(help="pandas, or spark: the row-local rules on Spark for a Parquet folder or stored dataset (result stored as partitioned Parquet).")] = "pandas",
    spark_master: Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL (default local[*]).")] = None,
) -> None:
    """Apply declared cleaning rules; write the result as a NEW dataset version."""
    from tqdm import tqdm

    from ..checks import find_suite
    from ..clean import clean_dataset
    from ..core.engines import check_engine
    from ..core.output import show_progress, write_json
    from ._output import echo, get_project, table

    project = get_project()
    check_engine(engine)
    bar = tqdm(total=1, desc="clean", disable=not show_progress(), leave=False)

    def progress(done: int, total: int, step: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(step)
        bar.refresh()

    try:
        report = clean_dataset(project, data, find_suite(project, rules), name=name,
                               progress=progress, engine=engine, spark_master=spark_master)
    finally:
        bar.close()
    what = "wrote" if report.created else "unchanged: identical content already stored as"
    echo(f"{what} {report.result} from {report.parent}: {report.rows_before} -> "
         f"{report.rows_after} rows (run {report.run_id})")
    echo(table([[s.index, s.type, s.rows_removed, s.rows_changed,
                  ", ".join(str(e.get("row")) for e in s.examples[:5])] for s in report.steps],
                ["#", "rule", "removed", "changed", "examples (rows)"]))
    for s in report.steps:
        d = s.details
        if "words_swapped" in d:  # counterfactual_augment: what it swapped, with examples
            words = ", ".join(f"{w} {n}" for w, n in list(d["by_word"].items())[:6])
            echo(f"clean[{s.index}] {s.type} ({d['mode']}, {d['word_list']}): "
                 f"{d['rows_changed']} rows changed, {d['words_swapped']} words swapped"
                 + (f" ({words})" if words else ""))
            for e in s.examples[:3]:
                turn = f", turn {e['turn']}" if "turn" in e else ""
                echo(f"  row {e['row']}, {e['column']}{turn}: {e['before']!r} -> "
                     f"{e['after']!r}")
    write_json(json_out, report.to_dict())


def register(app: typer.Typer) -> None:
    app.command("clean")(clean)
