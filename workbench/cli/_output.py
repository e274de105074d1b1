"""What every command shares: the project option's value, human output, tables, --json."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

STATE = {"debug": False, "project": None}


JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")]


def get_project():
    from ..core.project import find_project

    return find_project(STATE["project"])


def echo(msg: str = "") -> None:
    """Human-readable output; goes to stderr when ``--json -`` claims stdout."""
    typer.echo(msg, err=STATE.get("json_stdout", False))


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(lines)


def same_run(a: str, b: str) -> str | None:
    """``"run (run:6)"`` or ``"file (PATH)"`` when ``a`` and ``b`` name the same one, else ``None``.

    ``6`` and ``run:6`` are one run; two spellings of a path are one file.
    """
    from pathlib import Path

    def key(ref: str) -> str:
        ref = str(ref).strip()
        bare = ref.removeprefix("run:")
        if bare.isdigit():
            return f"run:{int(bare)}"
        return str(Path(ref).expanduser().resolve())

    if key(a) != key(b):
        return None
    return f"run ({key(a)})" if key(a).startswith("run:") else f"file ({key(a)})"
