"""Where a training run is, in words a front end can show: its phase (preparing the
model, baseline evaluation, step x of N) with an ETA, the rows of a runs table, and the
config a training form builds."""

from __future__ import annotations

import time
from typing import Any, Literal

Task = Literal["causal-lm", "classification", "seq2seq"]


def form_config(*, name: str, model: str, task: Task, split: str, first: str, second: str,
                method: str, learning_rate: float, batch_size: int, max_steps: int,
                max_length: int, eval_steps: int, max_eval_rows: int = 16) -> dict[str, Any]:
    """A training config (as ``workbench train`` reads it) from a form's fields: ``first``
    and ``second`` are the prompt and response columns, or text and label for
    classification.

    >>> cfg = form_config(name="r", model="tiny:gpt2", task="classification", split="split:1",
    ...                   first="text", second="topic", method="full", learning_rate=5e-5,
    ...                   batch_size=4, max_steps=40, max_length=64, eval_steps=20)
    >>> cfg["data"]["text"], cfg["data"]["label"], cfg["training"]["logging_steps"]
    ('text', 'topic', 1)
    """
    keys = ("text", "label") if task == "classification" else ("prompt", "response")
    return {"name": name, "model": model, "task": task, "method": method,
            "data": {"split": split, keys[0]: first, keys[1]: second,
                     "max_eval_rows": max_eval_rows},
            "training": {"learning_rate": float(learning_rate), "batch_size": int(batch_size),
                         "max_steps": int(max_steps), "max_length": int(max_length),
                         "logging_steps": 1 if max_steps <= 50 else 5,
                         "eval_steps": int(eval_steps), "save_steps": int(eval_steps)}}


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA after the first steps"
    seconds = max(0, int(round(seconds)))
    return f"about {seconds // 60} min {seconds % 60:02d} s left" if seconds >= 60 else \
        f"about {seconds} s left"


def run_phase(progress: dict[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """A running run's phase from :func:`workbench.train.jobs.progress`: ``phase``,
    ``fraction`` (0-1), ``eta_s`` (None until steps are timed) and one line of ``text``.

    >>> from types import SimpleNamespace
    >>> run = SimpleNamespace(id=3, kind="train", outputs={"max_steps": 40,
    ...                       "steps_started": 100.0, "start_step": 0})
    >>> p = run_phase({"run": run, "step": 10, "max_steps": 40, "loss": 2.5,
    ...                "eval_loss": None}, now=130.0)
    >>> p["phase"], p["eta_s"], p["text"]
    ('training', 90.0, 'run:3: step 10 of 40 · loss 2.5000 · about 1 min 30 s left')
    >>> run_phase({"run": SimpleNamespace(id=4, kind="train", outputs={}), "step": 0,
    ...            "max_steps": 0, "loss": None, "eval_loss": None})["text"]
    'run:4: baseline evaluation (scoring the base model before the first step)'
    """
    run = progress["run"]
    out = run.outputs or {}
    step, total = int(progress.get("step") or 0), int(progress.get("max_steps") or 0)
    if not total:
        what = ("trying learning rates" if run.kind == "lr-search" else
                "baseline evaluation (scoring the base model before the first step)")
        return {"phase": "baseline", "fraction": 0.0, "eta_s": None,
                "text": f"run:{run.id}: {what}"}
    began, first = out.get("steps_started"), int(out.get("start_step") or 0)
    done = step - first
    eta = None
    if began and done > 0:
        eta = ((now or time.time()) - float(began)) / done * max(0, total - step)
    text = f"run:{run.id}: step {step} of {total}"
    if progress.get("loss") is not None:
        text += f" · loss {progress['loss']:.4f}"
    if progress.get("eval_loss") is not None:
        text += f" · eval loss {progress['eval_loss']:.4f}"
    return {"phase": "training", "fraction": min(step / total, 1.0), "eta_s": eta,
            "text": f"{text} · {_eta(eta)}"}


def job_phase(job) -> str:
    """What a background job without a run yet is doing, from the last line it logged:
    checking the config and data, or preparing (converting, loading) the model."""
    lines = [x for x in job.log_tail(20).splitlines() if x.strip()]
    last = next((x for x in reversed(lines) if x.startswith(("data:", "model:", "prepar",
                                                             "convert"))), None)
    if last is None:
        return "checking the config and the data"
    return "preparing the model" + (f" ({last.strip()[:80]})" if last.startswith("model")
                                     or "convert" in last else "")


def run_row(run, progress: dict[str, Any] | None) -> dict[str, Any]:
    """One row of a runs table; a running run shows its phase as its status."""
    status = run.status
    if progress is not None and status == "running":
        status = ("interrupted (resume it)" if progress.get("interrupted") else
                  run_phase(progress)["text"].split(": ", 1)[1])
    o = run.outputs or {}
    return {"id": run.id, "kind": run.kind, "name": run.name, "status": status,
            "model": run.config.get("model"), "method": run.config.get("method"),
            "steps": o.get("steps"), "train loss": o.get("train_loss"),
            "eval loss": o.get("eval_loss_end"), "chosen lr": o.get("chosen_lr"),
            "seconds": round(run.duration_s, 1) if run.duration_s else None,
            "started (UTC)": run.started}


def job_row(job) -> dict[str, Any]:
    """A runs-table row for a job whose run is not recorded yet (its first seconds)."""
    import datetime as dt
    from pathlib import Path

    try:
        started = dt.datetime.fromisoformat(job.started)
    except (TypeError, ValueError):
        started = None
    return {"id": None, "kind": job.mode, "name": Path(job.config).stem,
            "status": f"{job_phase(job)} (process {job.pid})", "model": None,
            "method": None, "steps": None, "train loss": None, "eval loss": None,
            "chosen lr": None, "seconds": None, "started (UTC)": started}




def starting_jobs(project) -> list:
    """Background jobs that are alive but have no run recorded yet (their first seconds:
    checking the config, preparing the model)."""
    from . import jobs

    return [j for j in jobs.list_jobs(project) if j.alive and jobs.job_run(project, j) is None]


def failed_jobs(project, *, limit: int = 3) -> list:
    """Recent background jobs that stopped with an error before any run was recorded."""
    from . import jobs

    return [j for j in jobs.list_jobs(project, limit=5) if not j.alive and j.error_line()
            and jobs.job_run(project, j) is None][:limit]


def base_models(project) -> list[str]:
    """Model specs a run can start from: packaged and cached models, and fine-tuned runs
    whose model is prepared."""
    from ..models import list_models

    return [m.spec for m in list_models(project) if m.kind != "trained" or m.prepared]


def split_columns(project, split: str) -> list[str]:
    """The columns of a split's train part a form can offer (not the row-id column)."""
    from ..splits import load_split

    _, dd = load_split(project, split)
    return [c for c in dd["train"].column_names if c != "_row_id"]


def column_roles(task: Task) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
    """The two columns a task reads, as (label, usual column name) pairs."""
    if task == "classification":
        return ("Text column", None), ("Label column", None)
    return ("Prompt column", "question"), ("Response column", "answer")


__all__ = ["base_models", "column_roles", "failed_jobs", "form_config", "job_phase", "job_row",
           "run_phase", "run_row", "split_columns", "starting_jobs"]
