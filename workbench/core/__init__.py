"""The core every stage builds on: errors, output helpers, digests, charts, the project,
the store, engines. Its modules are public (``workbench.core.store``); none imports a stage.
"""
