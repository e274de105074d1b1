"""Which files a front end may read: the project and its uploads, plus any folder the
project allows (``app: read_folders: [...]`` in workbench.yaml). The CLI reads what its
user names; an app serves whoever can reach it, so it asks here first."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import ConfigError

_SCHEME = re.compile(r"^[a-z][a-z0-9+-]*:", re.IGNORECASE)


def allowed_folders(project) -> list[Path]:
    """The project's root and the extra folders its ``app.read_folders`` setting lists
    (relative ones are relative to the project)."""
    extra = ((project.config or {}).get("app") or {}).get("read_folders") or []
    if isinstance(extra, str):
        extra = [extra]
    root = Path(project.root).resolve()
    return [root, *[(root / os.path.expanduser(str(f))).resolve() for f in extra]]


def app_path(project, text: str, *, what: str = "file") -> Path | str:
    """``text`` as a path the app may read, resolved against the project; a source spec
    such as ``packaged:imdb`` is returned as it is.

    >>> from types import SimpleNamespace
    >>> p = SimpleNamespace(root="/proj", config={})
    >>> str(app_path(p, "data/a.csv")), app_path(p, "packaged:imdb")
    ('/proj/data/a.csv', 'packaged:imdb')
    >>> app_path(p, "/etc/passwd")
    Traceback (most recent call last):
    ...
    workbench.core.errors.ConfigError: /etc/passwd: outside the project; the app reads files only inside the project (allow more folders with app: read_folders in workbench.yaml)
    """
    text = str(text).strip()
    if _SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):
        return text
    path = (Path(project.root) / os.path.expanduser(text)).resolve()
    for folder in allowed_folders(project):
        if path == folder or folder in path.parents:
            return path
    raise ConfigError(f"{text}: outside the project; the app reads {what}s only inside the "
                      "project (allow more folders with app: read_folders in workbench.yaml)",
                      param="path")


__all__ = ["allowed_folders", "app_path"]
