"""What a review front end needs besides the verdict store: run labels, which columns to
offer as filters, and the filtering itself."""

from __future__ import annotations

import pandas as pd

_FIXED = ("id", "prompt", "reference", "text_a", "text_b", "template", "group", "context",
          "changed")


def review_run_label(run) -> str:
    """A probe or evaluation run named by its model, data and generation settings."""
    if run.kind == "probe":
        from ..probes import probe_run_label

        return f"probe {probe_run_label(run)}"
    from ..evaluation import eval_run_label

    return f"evaluate {eval_run_label(run)} · {run.started:%Y-%m-%d %H:%M}"


def same_data(run):
    """What two runs must share to be paired: the evaluated data, or the probe set."""
    return run.config.get("data") or (run.config.get("probe_set") or {}).get("name")


def probe_groups(run) -> list[str]:
    """The groups a probe run's outputs cover, sorted (empty when it has none)."""
    from ._review import load_examples

    frame = load_examples(run)
    return sorted(frame["group"].astype(str).unique()) if "group" in frame else []


def filter_columns(view: pd.DataFrame, *, limit: int = 3) -> list[str]:
    """Up to ``limit`` categorical columns worth filtering on: template, group and context
    first, then other text columns of the records."""
    fixed = [c for c in ("template", "group", "context") if c in view.columns]
    other = [c for c in view.columns if c not in _FIXED and not str(c).startswith("_")
             and view[c].dtype == object
             and not view[c].map(lambda v: isinstance(v, (list, dict))).any()]  # not turns
    return (fixed + other[:3])[:limit]


def change_columns(view: pd.DataFrame) -> list[str]:
    """Score-change columns, the one that moved on the most items first (exact-match
    accuracy is all zeros on free text)."""
    return sorted((c for c in view.columns if str(c).endswith("_change")),
                  key=lambda c: -int((view[c].fillna(0) != 0).sum()))


def mine(table: pd.DataFrame, reviewer: str) -> dict[str, str]:
    """The verdicts ``reviewer`` gave, by item."""
    own = table.loc[table["reviewer"] == reviewer.strip()] if len(table) else table
    return dict(zip(own.get("item", []), own.get("verdict", [])))


def filter_items(pairs: pd.DataFrame, *, only_changed: bool = True,
                 skip: set[str] | None = None,
                 chosen: dict[str, list[str]] | None = None,
                 change: str | None = None, at_least: float = 0.0) -> pd.DataFrame:
    """The items to review: changed ones only, minus ``skip`` ids, with the ``chosen``
    values per column, and when ``change`` is a score-change column those that moved by
    ``at_least``, largest change first.

    >>> pairs = pd.DataFrame({"id": [1, 2, 3], "changed": [True, False, True],
    ...                       "s_change": [0.1, 0.0, -0.5]})
    >>> filter_items(pairs, change="s_change", at_least=0.2)["id"].tolist()
    [3]
    """
    view = pairs[pairs["changed"]] if only_changed else pairs
    if skip:
        view = view[~view["id"].astype(str).isin(skip)]
    for col, values in (chosen or {}).items():
        if values:
            view = view[view[col].astype(str).isin(values)]
    if change:
        view = view[view[change].abs() >= at_least]
        view = view.reindex(view[change].abs().sort_values(ascending=False).index)
    return view.reset_index(drop=True)


__all__ = ["change_columns", "filter_columns", "filter_items", "mine", "probe_groups",
           "review_run_label", "same_data"]
