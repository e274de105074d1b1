"""The name a cleaned copy of a dataset gets."""

from __future__ import annotations


def clean_name(ref: str) -> str:
    """``support_raw@3`` -> ``support_clean``; ``reviews`` -> ``reviews_clean``; a name that
    is already a cleaned one keeps its name (a new version of it).

    >>> clean_name("support_raw@3"), clean_name("reviews"), clean_name("support_clean@1")
    ('support_clean', 'reviews_clean', 'support_clean')
    """
    name = str(ref).split("@")[0]
    if name.endswith("_clean"):
        return name
    for tail in ("_raw", "-raw"):
        if name.endswith(tail):
            return name[: -len(tail)] + "_clean"
    return f"{name}_clean"


__all__ = ["clean_name"]
