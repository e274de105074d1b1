"""What a front end shows of saved splits: one summary row per split."""

from __future__ import annotations

from typing import Any


def split_rows(splits: list) -> list[dict[str, Any]]:
    """One row per saved split: data, label, stratification, ratios, seed, part sizes,
    cross-split leaks and when it was made."""
    return [{"id": r.id, "dataset": r.name, "label": r.config.get("label"),
             "stratify": ", ".join(r.config.get("stratify") or []),
             "group": r.config.get("group"),
             "ratios": ", ".join(f"{x:g}" for x in r.config.get("ratios", [])),
             "seed": r.config.get("seed"), **r.outputs["manifest"]["counts"],
             "cross-split leaks": r.outputs["manifest"]["leakage"].get("cross_split"),
             "created (UTC)": r.started} for r in splits]


def distinct_counts(frame) -> dict[str, int]:
    """Each column's number of distinct values, for choosing a label or strata. Columns of
    conversations are left out (they cannot be a label, strata or groups).

    >>> import pandas as pd
    >>> distinct_counts(pd.DataFrame({"topic": ["a", "b", "a"],
    ...                               "messages": [[{"role": "user", "content": "Hi"}]] * 3}))
    {'topic': 2}
    """
    from ..data import is_conversation_column

    return {str(c): int(frame[c].map(lambda v: str(v) if isinstance(v, (list, dict)) else v)
                        .nunique())
            for c in frame.columns if not is_conversation_column(frame[c])}


def label_guess(distinct: dict[str, int]) -> str | None:
    """The first column that looks like a label (2 to 50 distinct values), if any.

    >>> label_guess({"id": 200, "topic": 5, "text": 198})
    'topic'
    """
    return next((c for c, n in distinct.items() if 1 < n <= 50), None)


__all__ = ["distinct_counts", "label_guess", "split_rows"]
