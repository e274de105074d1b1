"""The learning-rate search report."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.store import Store
from ..train import LRSearchResult, TrainConfig
from ._render import render, write_report


def lr_chart(res: LRSearchResult, *, width: int = 640):
    """Loss versus rate (log axis) with the chosen rate marked."""
    from ..core.charts import svg_line_chart

    raw = [(t["lr"], t["loss"]) for t in res.trials]
    smooth = [(t["lr"], t["smoothed_loss"]) for t in res.trials]
    ys = [y for _, y in raw + smooth]
    return svg_line_chart({"loss": raw, "smoothed": smooth,
                           f"chosen {res.chosen_lr:.2g}": [(res.chosen_lr, min(ys)),
                                                           (res.chosen_lr, max(ys))]},
                          title="loss versus learning rate", xlabel="learning rate (log scale)",
                          ylabel="training loss", logx=True, width=width)


def write_lr_search_report(project, config: TrainConfig, res: LRSearchResult,
                           out: str | os.PathLike | None = None) -> Path:
    """Write the loss-versus-rate report of a range test, list it in the store and note
    its path on the run."""
    html = render("lr_search.html", title=f"Learning-rate search (run:{res.run_id})",
                  subtitle=res.subtitle, res=res, chart=lr_chart(res),
                  signature=res.signature, config=config)
    path = write_report(project, html, out, kind="lr-search",
                        title=f"Learning-rate search run:{res.run_id}",
                        signature_text=res.signature, run_id=res.run_id)
    store = Store.for_project(project)
    run = store.get_run(res.run_id)
    store.update_run(res.run_id, outputs={**run.outputs, "report": str(path)})
    return path


__all__ = ["lr_chart", "write_lr_search_report"]
