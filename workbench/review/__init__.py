"""Review: side-by-side outputs of two runs, human verdicts stored and counted.
"""

from __future__ import annotations

from ._review import (
    TEXT_COLUMNS,
    VERDICTS,
    VerdictSummary,
    counterfactual_pairs,
    export_csv,
    human_review,
    load_examples,
    pair_key,
    pair_runs,
    record_verdict,
    reviewable_runs,
    score_columns,
    summarize,
    verdict_count,
    verdicts,
    word_diff_html,
)

__all__ = [
    "VERDICTS",    "counterfactual_pairs", "export_csv", "human_review", "load_examples", "pair_key",
    "pair_runs", "record_verdict", "reviewable_runs", "score_columns", "summarize",
    "TEXT_COLUMNS", "verdict_count", "verdicts", "VerdictSummary", "word_diff_html",
]

from ._views import (  # noqa: E402 - for review front ends
    change_columns,
    filter_columns,
    filter_items,
    mine,
    probe_groups,
    review_run_label,
    same_data,
)

__all__ += ["change_columns", "filter_columns", "filter_items", "mine", "probe_groups",
            "review_run_label", "same_data"]

from ._card import refresh_model_card, refresh_model_cards  # noqa: E402
from ._signoff import (  # noqa: E402 - sign-off of before/after reports
    DECISIONS,
    SIGNABLE,
    Signoff,
    covers_path,
    sign_off,
    signable_reports,
    signoffs,
    write_covers,
)

__all__ += ["DECISIONS", "SIGNABLE", "Signoff", "covers_path", "refresh_model_card", "refresh_model_cards",
            "sign_off", "signable_reports", "signoffs", "write_covers"]
