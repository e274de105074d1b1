"""``workbench train CONFIG.yaml [--resume] [--lr-search [--write-lr]] [--json OUT]``.

With ``--launch accelerate|torchrun --num-processes N`` the command starts itself N times
under that launcher (DDP) and reports the main process's result.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import ConfigError, WorkbenchError
from ..core.output import show_progress, write_json


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


LAUNCHERS = ("accelerate", "torchrun")


def _report(res) -> None:
    from ._output import echo

    procs = f", {res.processes} processes" if res.processes > 1 else ""
    echo(f"trained run:{res.run_id} in {res.steps} steps ({res.duration_s:.0f} s on "
         f"{res.device['device']}, {res.device['precision']}{procs})")
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


def _check_launch(launch: str | None, num_processes: int | None, accelerate_config,
                  lr_search: bool) -> None:
    from ..core.errors import did_you_mean

    if launch is None:
        if num_processes is not None or accelerate_config is not None:
            flag = "--num-processes" if num_processes is not None else "--accelerate-config"
            raise ConfigError(f"{flag}: needs --launch accelerate or --launch torchrun")
        return
    if launch not in LAUNCHERS:
        raise ConfigError(f"--launch: unknown launcher '{launch}'"
                          f"{did_you_mean(launch, LAUNCHERS)}; choose accelerate or torchrun")
    if num_processes is None:
        raise ConfigError("--launch: needs --num-processes N (processes in total)")
    if num_processes < 1:
        raise ConfigError(f"--num-processes: must be an integer >= 1; got {num_processes}")
    if accelerate_config is not None and launch != "accelerate":
        raise ConfigError("--accelerate-config: only with --launch accelerate")
    if lr_search:
        raise ConfigError("--launch: runs training; run --lr-search in one process")


def _launched(project, config: Path, *, launch: str, num_processes: int, resume: bool,
              accelerate_config: Path | None):
    """Run this command N times under ``launch``; return the main process's TrainResult."""
    from ..models import launch_command, torchrun_command
    from ..train import TrainResult

    with tempfile.TemporaryDirectory(prefix="workbench-launch-") as tmp:
        result = Path(tmp) / "result.json"
        target = ["workbench", "--project", str(project.root), "train",
                  str(config.resolve()), "--result-file", str(result),
                  "--expect-processes", str(num_processes)] + (["--resume"] if resume else [])
        if launch == "accelerate":
            argv, env = launch_command(target, num_processes=num_processes, module=True,
                                       config_file=accelerate_config)
        else:
            argv, env = torchrun_command(target, num_processes=num_processes, module=True)
        _say(f"starting {num_processes} processes with {launch}")
        # the processes' stdout goes to stderr: stdout stays ours (--json -)
        proc = subprocess.run(argv, env={**os.environ, **env}, stdout=sys.stderr.fileno())
        payload = json.loads(result.read_text(encoding="utf-8")) if result.exists() else {}
    if "error" in payload:
        raise WorkbenchError(payload["error"])
    if proc.returncode != 0 or "result" not in payload:
        typer.echo(f"error: training under {launch} failed (exit code {proc.returncode}); "
                   "the processes' messages are above", err=True)
        raise typer.Exit(proc.returncode or 3)
    return TrainResult(**payload["result"])


def _as_process(cfg, config: Path, *, project, resume: bool, result_file: str,
                expect: int | None):
    """One process of a launch: check the world size, train, rank 0 writes the result."""
    from ..models import is_main_process, partial_state, prepare_model
    from ..train import plan_training, run_training

    out = Path(result_file)
    main = is_main_process()
    try:
        state = partial_state()
        if expect is not None and state.num_processes != expect:
            raise ConfigError(f"--num-processes: asked for {expect} processes but the "
                              f"launch started a world of {state.num_processes}; check "
                              "the launcher and its config")
        with state.main_process_first():  # one process builds or converts the model
            prepare_model(project, cfg.model)
        plan = plan_training(project, cfg, resume=resume, source=str(config),
                             say=_say if main else None)
        if resume and plan.resume is None and main:
            _say("nothing to resume for this config: starting a fresh run")
        state.wait_for_everyone()  # nothing is recorded or moved before all have planned
        bar = _Bar("train") if main else None
        try:
            res = run_training(project, plan, config_path=str(config.resolve()),
                               progress=bar, say=_say if main else None)
        finally:
            if bar:
                bar.close()
    except WorkbenchError as exc:
        if main:
            write_json(str(out), {"error": str(exc)})
        raise
    if main:
        write_json(str(out), {"result": res.to_dict()})


def train_cmd(
    config: Annotated[Path, typer.Argument(help="Training config (YAML); see configs/demo_lora.yaml.", metavar="CONFIG.yaml")],
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last interrupted run of this config from its newest checkpoint.")] = False,
    lr_search: Annotated[bool, typer.Option("--lr-search", help="Run a learning-rate range test instead of training; report the chosen rate.")] = False,
    write_lr: Annotated[bool, typer.Option("--write-lr", help="With --lr-search: write the chosen rate into CONFIG.yaml (training.learning_rate).")] = False,
    html: Annotated[Optional[str], typer.Option("--html", help="With --lr-search: write the loss-versus-rate report here.", metavar="PATH")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="Write the result as JSON to PATH ('-' for stdout).", metavar="PATH")] = None,
    launch: Annotated[Optional[str], typer.Option("--launch", help="Train across processes (DDP) started by 'accelerate' or 'torchrun'; needs --num-processes.", metavar="LAUNCHER")] = None,
    num_processes: Annotated[Optional[int], typer.Option("--num-processes", help="With --launch: processes in total (each takes training.batch_size per step).", metavar="N")] = None,
    accelerate_config: Annotated[Optional[Path], typer.Option("--accelerate-config", help="With --launch accelerate: an 'accelerate config' file (multi-node, GPUs).", metavar="FILE")] = None,
    result_file: Annotated[Optional[str], typer.Option("--result-file", hidden=True)] = None,
    expect_processes: Annotated[Optional[int], typer.Option("--expect-processes", hidden=True)] = None,
) -> None:
    """Fine-tune a model with Hugging Face Trainer as CONFIG.yaml describes."""
    from ..train import load_config
    from ._output import echo, get_project

    _check_launch(launch, num_processes, accelerate_config, lr_search)
    project = get_project()
    cfg = load_config(config)
    if write_lr and not lr_search:
        raise ConfigError("--write-lr needs --lr-search (it writes the rate the search "
                          "chooses into the config)")
    _quiet_libraries()
    _cancel_on_sigterm()
    if lr_search:
        from ..reports import write_lr_search_report
        from ..train import lr_search as search
        from ..train import write_learning_rate

        bar = _Bar("lr search")
        try:
            res = search(project, cfg, config_path=str(config), progress=bar, say=_say)
        finally:
            bar.close()
        res = dataclasses.replace(res, report=str(write_lr_search_report(project, cfg, res,
                                                                           html)))
        echo(f"lr search run:{res.run_id}: {len(res.trials)} trials from {res.trials[0]['lr']:.2g} "
             f"to {res.trials[-1]['lr']:.2g}; lowest smoothed loss at {res.min_loss_lr:.3g}")
        echo(f"chosen learning rate: {res.chosen_lr:.3g} ({res.rule})")
        echo(f"plot: {res.report}")
        if write_lr:
            write_learning_rate(config, res.chosen_lr)
            echo(f"wrote training.learning_rate: {res.chosen_lr:.3g} into {config}")
        write_json(json_out, res.to_dict())
        return

    if result_file:  # one process of a launch (started by the branch below)
        _as_process(cfg, config, project=project, resume=resume, result_file=result_file,
                    expect=expect_processes)
        return
    if launch:
        res = _launched(project, config, launch=launch, num_processes=num_processes,
                        resume=resume, accelerate_config=accelerate_config)
        _report(res)
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
    _report(res)
    write_json(json_out, res.to_dict())


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
