"""The ``workbench`` command line: one module per stage (``data``, ``check``, ``train``...),
each with a ``register(app)``; ``_main`` builds the app and maps errors to exit codes."""

from __future__ import annotations

from ._main import app, main

__all__ = ["app", "main"]
