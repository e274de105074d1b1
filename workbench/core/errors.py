"""Error types shared by the library, the CLI and the pages.

Every error a user can fix is a :class:`WorkbenchError`; its subclasses also derive from
the standard Python exception that fits, so ``except ValueError`` and ``except
LookupError`` work as they do with any library:

- :class:`ConfigError` (``ValueError``): a bad argument or a bad config file entry;
- :class:`DataError` (``ValueError``): data that cannot be used as given (a missing column,
  an empty dataset, a malformed value);
- :class:`NotFoundError` (``LookupError``): a named dataset, run, model, suite or probe set
  that does not exist.

Messages name the thing in the user's words ("ratios must sum to 1; got 1.1"). An error
about one parameter carries its name in ``param``; the CLI shows it as the flag
(``--ratios: ...``) and the app as the widget's label.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkbenchError(Exception):
    """A problem the user can fix: bad input, bad config, a missing file.

    The CLI prints ``str(error)`` as one line and exits with code 2. ``param`` names the
    parameter the message is about (``"ratios"``), when there is one.
    """

    def __init__(self, message: str = "", *, param: str | None = None):
        super().__init__(message)
        self.param = param

    def labelled(self, label: str) -> str:
        """The message with its subject shown as ``label`` (a flag, a widget's label).

        >>> ConfigError("min stratum: must be positive; got 0", param="min_stratum"
        ...             ).labelled("--min-stratum")
        '--min-stratum: must be positive; got 0'
        >>> ConfigError("no metric named", param="metrics").labelled("Metrics")
        'Metrics: no metric named'
        """
        text = str(self)
        if not self.param:
            return text
        words = self.param.replace("_", " ") + ": "
        if text.startswith(words):
            text = text[len(words):]
        return f"{label}: {text}"


class ConfigError(WorkbenchError, ValueError):
    """A bad argument or a bad entry in a config file."""


class DataError(WorkbenchError, ValueError):
    """Data that cannot be used as given: a missing column, no rows, a malformed value."""


class NotFoundError(WorkbenchError, LookupError):
    """A named dataset, run, model, suite or probe set does not exist."""


class RenamedKeyWarning(FutureWarning):
    """A config key written with its old name: it still works, the message names the new
    one (``workbench.yaml: probes.n_bootstrap (line 4): renamed to 'n_resamples'; ...``).
    The CLI shows it as one ``warning:`` line."""


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
