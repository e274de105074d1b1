"""``workbench signoff`` (a decision on a before/after report) and ``workbench model-card``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.output import write_json
from ._output import JsonOpt, echo, get_project


def signoff(
    report: Annotated[str, typer.Argument(help="The before/after report: its id (as the Reports page lists it) or its file (the report path `workbench bias-report` prints).")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who decides (recorded with the decision).")],
    decision: Annotated[str, typer.Option("--decision", help="approve, reject or probe-more.")],
    comment: Annotated[Optional[str], typer.Option("--comment", help="Why (shown in the report and the model card).")] = None,
    json_out: JsonOpt = None,
) -> None:
    """Record a reviewer's decision on a before/after (bias-report) report.

    The decision is stored with the signatures it covers, shown in the report's file, and
    written into the model card of the fine-tuned run it is about.
    """
    from ..reports import sign_off_report

    s, path, cards = sign_off_report(get_project(), report, reviewer=reviewer,
                                     decision=decision, comment=comment)
    echo(f"sign-off {s.id}: {s.decision} by {s.reviewer} on report {s.report_id} ({path})")
    for k, v in s.signatures.items():
        echo(f"  covers {k}: {v}")
    for c in cards:
        echo(f"model card updated: {c}")
    write_json(json_out, {**s.to_dict(), "report": str(path), "cards": [str(c) for c in cards]})


def model_card(
    run: Annotated[str, typer.Argument(help="The training run (run:ID or ID).")],
    json_out: JsonOpt = None,
) -> None:
    """Refresh a fine-tuned model's card from the store: model-index metadata with its
    evaluations, and the latest bias verdicts and sign-offs."""
    from ..review import refresh_model_card

    cards = refresh_model_card(get_project(), run)
    for c in cards:
        echo(f"model card updated: {c}")
    write_json(json_out, {"cards": [str(c) for c in cards]})


def register(app: typer.Typer) -> None:
    app.command("signoff")(signoff)
    app.command("model-card")(model_card)
