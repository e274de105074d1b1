"""What a front end shows of datasets: a stored version as a file to download (written by
the same code as ``workbench data export``) and conversations as chat turns."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

DOWNLOADS: dict[str, tuple[str, str]] = {
    "csv": (".csv", "text/csv"),
    "jsonl": (".jsonl", "application/jsonl"),
    "parquet": (".parquet", "application/vnd.apache.parquet"),
}
"""The formats a version downloads as: its file extension and MIME type."""


def download_name(ref: str, format: str) -> str:
    """``support_raw-1a2b3c.jsonl``: the file name of a version's download.

    >>> download_name("support_raw@1a2b3c", "jsonl")
    'support_raw-1a2b3c.jsonl'
    """
    return ref.replace("@", "-") + DOWNLOADS[format][0]


def export_bytes(project, ref: str, format: str) -> bytes:
    """The stored version ``ref`` as ``format`` (csv, jsonl or parquet): exactly the file
    :func:`export_version` writes for ``workbench data export``."""
    from ._versions import export_version

    with tempfile.TemporaryDirectory(prefix="workbench-export-") as folder:
        path = export_version(project, ref, Path(folder) / download_name(ref, format),
                              format=format)
        return path.read_bytes()


def chat_turns(value: Any) -> list[dict[str, str]]:
    """One conversation as turns to show: ``{"role", "content", "extra"}`` as text, where
    ``extra`` lists the turn's other keys (``name: Ana · weight: 0``). Never raises: a
    turn without a role or content shows ``?`` or nothing, a value that is not a
    conversation gives no turns.

    >>> chat_turns([{"role": "user", "content": "Hi", "name": "ana"}, {"content": 3}])
    [{'role': 'user', 'content': 'Hi', 'extra': 'name: ana'}, {'role': '?', 'content': '3', 'extra': ''}]
    """
    from ._conversations import _lenient_turns

    out = []
    for turn in _lenient_turns(value):
        role, content = turn.get("role"), turn.get("content")
        extra = " · ".join(f"{k}: {v}" for k, v in turn.items() if k not in ("role", "content"))
        out.append({"role": "?" if role is None else str(role),
                    "content": "" if content is None else str(content), "extra": extra})
    return out
