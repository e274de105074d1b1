"""Training in a background process, for the app: start, follow, cancel.

A job is ``workbench train CONFIG`` run as its own process (its own session, so the app
never blocks and a cancel reaches the whole process group). Its output goes to a log file
and a small JSON record under ``.workbench/jobs/``; its progress is read from the store,
which the training process writes through its TrainerCallback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..core.errors import ConfigError
from ._config import parse_config
from ._run import _pid_alive


@dataclass(frozen=True)
class Job:
    """A background training process started from the app."""

    pid: int
    config: str
    log: str
    started: str
    mode: str  # "train" | "resume" | "lr-search"

    @property
    def alive(self) -> bool:
        return _pid_alive(self.pid)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = Path(self.log).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        # tqdm redraws with carriage returns: keep each line's last state
        return "\n".join(x.rsplit("\r", 1)[-1] for x in text.splitlines()[-lines:])

    def error_line(self) -> str | None:
        """The one-line error the CLI printed, if the process failed."""
        for line in reversed(self.log_tail(50).splitlines()):
            if line.startswith(("error:", "internal error:")):
                return line
        return None


def _jobs_dir(project) -> Path:
    d = project.state / "jobs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_form_config(project, data: dict, *, name: str = "train") -> Path:
    """Validate a config built by a form and save it as YAML under ``.workbench/configs``."""
    parse_config(data, source="form")
    folder = project.state / "configs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40] or "train"
    path = folder / f"{safe}-{stamp}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def start_job(project, config_path: str | os.PathLike, *, resume: bool = False,
              lr_search: bool = False) -> Job:
    """Start ``workbench train CONFIG`` in the background; return at once."""
    from ._config import load_config

    path = Path(config_path)
    if not path.is_absolute():
        path = (project.root / path).resolve()
    load_config(path)  # a bad config fails here, in the app, with its one-line message
    check_not_running(project, path)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    log = _jobs_dir(project) / f"{stamp}.log"
    argv = [sys.executable, "-m", "workbench", "--project", str(project.root), "train",
            str(path)]
    if resume:
        argv.append("--resume")
    if lr_search:
        argv.append("--lr-search")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        with open(log, "w", encoding="utf-8") as fh:
            proc = subprocess.Popen(argv, cwd=project.root, stdout=fh, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    except OSError as exc:
        raise ConfigError(f"could not start the training process: {exc}") from None
    job = Job(pid=proc.pid, config=str(path), log=str(log),
              started=dt.datetime.now().isoformat(timespec="seconds"),
              mode="lr-search" if lr_search else ("resume" if resume else "train"))
    (_jobs_dir(project) / f"{stamp}.json").write_text(json.dumps(job.__dict__),
                                                      encoding="utf-8")
    return job


def list_jobs(project, *, limit: int = 20) -> list[Job]:
    """Jobs started from the app, newest first."""
    out = []
    for p in sorted(_jobs_dir(project).glob("*.json"), reverse=True)[:limit]:
        try:
            out.append(Job(**json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return out


def job_run(project, job: Job):
    """The store run a job created (None until its checks passed and training began)."""
    from ..core.store import Store

    for run in Store.for_project(project).list_runs(limit=50):
        if run.pid == job.pid and run.kind in ("train", "lr-search"):
            return run
    return None


def cancel(project, *, pid: int, run_id: int | None = None, wait_s: float = 10.0) -> str:
    """Stop a training process (SIGTERM to its group) and make sure its run says cancelled."""
    from ..core.store import Store

    if _pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + wait_s
        while _pid_alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    if run_id is not None:
        store = Store.for_project(project)
        run = store.get_run(run_id)
        if run.status == "running":  # it died before it could record the cancel itself
            store.finish_run(run_id, status="cancelled", error="cancelled from the app")
        return store.get_run(run_id).status
    return "cancelled"


def progress(project, run_id: int) -> dict:
    """Where a run is: step, max steps, latest losses and the curve (for the app)."""
    from ..core.store import Store

    store = Store.for_project(project)
    run = store.get_run(run_id)
    latest: dict[tuple[int, str], float] = {}
    for m in store.metrics(run_id):
        latest[(m["step"], m["key"])] = m["value"]
    curve: dict[int, dict] = {}
    for (step, key), value in sorted(latest.items()):
        if key in ("loss", "eval_loss", "smoothed_loss", "lr"):
            curve.setdefault(step, {"step": step})[key] = value
    rows = [curve[s] for s in sorted(curve)]
    step = max((s for s, _ in latest), default=0)
    losses = [r["loss"] for r in rows if "loss" in r]
    evals = [r["eval_loss"] for r in rows if "eval_loss" in r]
    max_steps = run.outputs.get("max_steps")
    if run.kind == "lr-search":
        max_steps = (run.config.get("lr_search") or {}).get("steps")
    return {"run": run, "step": step, "max_steps": max_steps or 0,
            "loss": losses[-1] if losses else None, "eval_loss": evals[-1] if evals else None,
            "curve": rows, "interrupted": run.status == "running" and not _pid_alive(run.pid)}


def check_not_running(project, config_path: str | os.PathLike) -> None:
    """Refuse to start a second process on the same config while one is running."""
    for job in list_jobs(project):
        if job.alive and Path(job.config) == Path(config_path).resolve():
            raise ConfigError(f"{config_path}: already training in process {job.pid}; "
                              "cancel it first")
