"""Digests and signatures: one way to hash content, one way to say how a number was made."""

from __future__ import annotations

from .. import __version__


def signature(**parts) -> str:
    """A one-line signature naming what produced a number, sacrebleu-style.

    >>> signature(data="qa@abc123", seed=0)
    'data:qa@abc123|seed:0|workbench:0.1.0'
    """
    items = [f"{k}:{v}" for k, v in parts.items() if v is not None and v != ""]
    return "|".join([*items, f"workbench:{__version__}"])
