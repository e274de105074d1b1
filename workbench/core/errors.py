"""Error types shared by the library, the CLI and the pages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkbenchError(Exception):
    """A problem the user can fix: bad input, bad config, a missing file.

    The CLI prints ``str(error)`` as one line and exits with code 2.
    """


class NotFoundError(WorkbenchError):
    """A named dataset, run, model, suite or probe set does not exist."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or ``""``."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.5)
    if not close and name:
        close = [c for c in choices if c.lower().startswith(str(name).lower())][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> WorkbenchError:
    """Build the registry-style error for an unknown name, listing what exists."""
    choices = sorted(choices)
    listed = ", ".join(choices) if choices else "none"
    return NotFoundError(f"unknown {kind} '{name}'{did_you_mean(name, choices)}; known: {listed}")
