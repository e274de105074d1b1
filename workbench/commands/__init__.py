"""CLI command groups contributed by each part of the lifecycle.

Each module defines ``register(app)``; it must import nothing heavy at module level.
"""
