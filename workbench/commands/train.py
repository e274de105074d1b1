"""``workbench train CONFIG.yaml [--resume] [--lr-search [--write-lr]] [--json OUT]``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._cli_util import show_progress, write_json
from .._errors import WorkbenchError


def _quiet_libraries() -> None:
    """Hugging Face progress bars and warnings would drown the one bar we show."""
    import warnings

    import datasets
    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", category=FutureWarning)

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()


def _cancel_on_sigterm() -> None:
    """SIGTERM (the app's Cancel button) ends the run as cancelled, like Ctrl-C."""
    def handler(_sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class _Bar:
    """A tqdm bar on stderr showing step, loss and eval loss."""

    def __init__(self, desc: str):
        from tqdm import tqdm

        self.bar = tqdm(total=0, desc=desc, unit="step", file=sys.stderr,
                        disable=not show_progress(), dynamic_ncols=True)

    def __call__(self, ev) -> None:
        if ev.max_steps and self.bar.total != ev.max_steps:
            self.bar.total = ev.max_steps
        self.bar.n = ev.step
        post = {}
        if ev.loss is not None:
            post["loss"] = f"{ev.loss:.4f}"
        if ev.eval_loss is not None:
            post["eval"] = f"{ev.eval_loss:.4f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _say(msg: str) -> None:
    typer.echo(f"... {msg}", err=True)


def train_cmd(
    config: Annotated[Path, typer.Argument(help="Training config (YAML); see configs/demo_lora.yaml.", metavar="CONFIG.yaml")],
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last interrupted run of this config from its newest checkpoint.")] = False,
    lr_search: Annotated[bool, typer.Option("--lr-search", help="Run a learning-rate range test instead of training; report the chosen rate.")] = False,
    write_lr: Annotated[bool, typer.Option("--write-lr", help="With --lr-search: write the chosen rate into CONFIG.yaml (training.learning_rate).")] = False,
    html: Annotated[Optional[str], typer.Option("--html", help="With --lr-search: write the loss-versus-rate report here.", metavar="PATH")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")] = None,
) -> None:
    """Fine-tune a model with Hugging Face Trainer as CONFIG.yaml describes."""
    from ..cli import echo, get_project
    from ..train import load_config

    project = get_project()
    cfg = load_config(config)
    if write_lr and not lr_search:
        raise WorkbenchError("--write-lr needs --lr-search (it writes the rate the search "
                             "chooses into the config)")
    _quiet_libraries()
    _cancel_on_sigterm()
    if lr_search:
        from ..train import lr_search as search, write_learning_rate

        bar = _Bar("lr search")
        try:
            res = search(project, cfg, config_path=str(config), progress=bar, say=_say,
                         html=html)
        finally:
            bar.close()
        echo(f"lr search run:{res.run_id}: {len(res.trials)} trials from {res.trials[0]['lr']:.2g} "
             f"to {res.trials[-1]['lr']:.2g}; lowest smoothed loss at {res.min_loss_lr:.3g}")
        echo(f"chosen learning rate: {res.chosen_lr:.3g} ({res.rule})")
        echo(f"plot: {res.report}")
        if write_lr:
            write_learning_rate(config, res.chosen_lr)
            echo(f"wrote training.learning_rate: {res.chosen_lr:.3g} into {config}")
        write_json(json_out, res.to_dict())
        return

    from ..train import plan_training, run_training

    plan = plan_training(project, cfg, resume=resume, source=str(config), say=_say)
    if resume and plan.resume is None:
        _say("nothing to resume for this config: starting a fresh run")
    bar = _Bar("train")
    try:
        res = run_training(project, plan, config_path=str(config.resolve()), progress=bar,
                           say=_say)
    finally:
        bar.close()
    echo(f"trained run:{res.run_id} in {res.steps} steps ({res.duration_s:.0f} s on "
         f"{res.device['device']}, {res.device['precision']})")
    if res.resumed_from:
        echo(f"resumed from run:{res.resumed_from['run']} at step {res.resumed_from['step']}")
    loss = f"{res.train_loss:.4f}" if res.train_loss is not None else "n/a"
    if res.eval_loss_end is not None:
        start = f"{res.eval_loss_start:.4f} -> " if res.eval_loss_start is not None else ""
        echo(f"train loss {loss}; eval loss {start}{res.eval_loss_end:.4f}")
    else:
        echo(f"train loss {loss}")
    echo(f"checkpoint: {res.checkpoint}")
    echo(f"model card: {res.model_card}")
    echo(f"use it as the model spec run:{res.run_id}")
    write_json(json_out, res.to_dict())


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
