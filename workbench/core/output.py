"""Helpers shared by CLI commands: output, JSON, progress. No heavy imports."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars, paths, dataclasses and NaN into plain JSON values."""
    import dataclasses
    import datetime as dt

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "shape", None) == ():
        obj = obj.item()
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | None, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` (``-`` for stdout)."""
    if not path:
        return
    text = json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False)
    if path == "-":
        sys.stdout.write(text + "\n")
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, p)


def show_progress() -> bool:
    """Progress bars on a terminal, quiet under CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def fmt(value, digits: int = 3) -> str:
    """Format a number for a table; ``None``/NaN shows as an em dash."""
    if value is None:
        return "—"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f:
        return "—"
    if f.is_integer() and abs(f) < 1e15 and isinstance(value, int):
        return str(int(f))
    return f"{f:.{digits}f}"


P_FLOOR = 0.001


def fmt_p(value, digits: int = 3) -> str:
    """Format a p-value: below 0.001 as ``< 0.001``; ``None``/NaN as an em dash.

    The one p-value formatter of the reports and the CLI: a bootstrap or permutation
    p-value smaller than the floor says "rarer than this", not an exact value.

    >>> fmt_p(0.0004), fmt_p(0.0312), fmt_p(1.0), fmt_p(None)
    ('< 0.001', '0.031', '1.000', '—')
    """
    if value is None:
        return "—"
    try:
        p = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(p):
        return "—"
    if p < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return f"{p:.{digits}f}"
