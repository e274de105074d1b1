"""Scheduled checks: APScheduler 3 jobs kept in the store's database.

``add_job`` stores a job (cron expression or a fixed interval) in an
``SQLAlchemyJobStore`` on the project's database URL, so jobs survive restarts and
every process sees the same list. ``run_scheduler`` runs them in the foreground.
Each job runs the workbench CLI as a subprocess (a crash cannot take the scheduler
down), which records its own check run; the scheduler also records a ``schedule``
run with the exit code. One run at a time per job (``max_instances=1``); runs missed
while no scheduler was up are run once (``coalesce=True``) if they are less than
``misfire_grace_s`` late.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ConfigError, NotFoundError, WorkbenchError, did_you_mean

TABLE = "workbench_schedule"
DEFAULT_MISFIRE_GRACE_S = 3600
JOB_FUNC = "workbench.checks:run_job"  # how stored jobs name the function they run
SCHEDULABLE = ("check",)


@dataclass(frozen=True)
class ScheduledJob:
    """One stored job."""

    id: str
    command: list[str]
    trigger: str
    next_run: dt.datetime | None
    max_instances: int
    coalesce: bool
    misfire_grace_s: int | None

    def to_dict(self) -> dict:
        return {"id": self.id, "command": self.command, "trigger": self.trigger,
                "next_run": self.next_run.isoformat(timespec="seconds") if self.next_run else None,
                "max_instances": self.max_instances, "coalesce": self.coalesce,
                "misfire_grace_s": self.misfire_grace_s}


def _scheduler(project, *, background: bool = True):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    project.ensure_state()
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=project.db_url, tablename=TABLE)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": DEFAULT_MISFIRE_GRACE_S},
        timezone=dt.timezone.utc)


def _jobstore(project):
    """The job store alone, for add/list/remove without starting a scheduler."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    sched = _scheduler(project)
    store = SQLAlchemyJobStore(url=project.db_url, tablename=TABLE)
    store.start(sched, "default")
    return sched, store


def _trigger(cron: str | None, every_seconds: float | None):
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if (cron is None) == (every_seconds is None):
        raise WorkbenchError("give exactly one of --cron EXPR or --every-seconds N")
    if every_seconds is not None:
        if every_seconds <= 0:
            raise ConfigError(f"every seconds: must be positive, got {every_seconds}",
                              param="every_seconds")
        return IntervalTrigger(seconds=every_seconds, timezone=dt.timezone.utc)
    try:
        return CronTrigger.from_crontab(cron, timezone=dt.timezone.utc)
    except ValueError as exc:
        raise ConfigError(f"cron: '{cron}' is not a crontab expression ({exc}); use five "
                          "fields: minute hour day month weekday, e.g. '*/15 * * * *'",
                          param="cron") from None


def _describe(trigger) -> str:
    from apscheduler.triggers.cron import CronTrigger

    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        return "cron " + " ".join(fields[k] for k in ("minute", "hour", "day", "month",
                                                      "day_of_week"))
    return f"every {trigger.interval.total_seconds():g}s"


def _validate_command(project, argv: Sequence[str]) -> list[str]:
    """Check the command now (suite loads, data exists) and anchor relative paths."""
    from ..data import resolve_data
    from ._suite import find_suite, load_suite

    argv = list(argv)
    if not argv or argv[0] not in SCHEDULABLE:
        raise WorkbenchError("COMMAND: only checks can be scheduled: "
                             "schedule add --cron EXPR -- check DATA --suite FILE")
    suite_at = next((i for i, a in enumerate(argv) if a in ("--suite", "-s")), None)
    positional = [a for i, a in enumerate(argv[1:], 1)
                  if not a.startswith("-") and (suite_at is None or i != suite_at + 1)]
    if suite_at is None or suite_at + 1 >= len(argv) or not positional:
        raise WorkbenchError("COMMAND: expected 'check DATA --suite FILE'")
    suite = find_suite(project, argv[suite_at + 1]).resolve()
    load_suite(suite, check_types=False)
    data = positional[0]
    resolve_data(project, data)
    try:
        argv[suite_at + 1] = str(suite.relative_to(project.root))
    except ValueError:
        argv[suite_at + 1] = str(suite)
    if Path(data).exists():
        argv[argv.index(data)] = str(Path(data).resolve())
    return argv


def _job(j) -> ScheduledJob:
    return ScheduledJob(j.id, list(j.args[2]), _describe(j.trigger), j.next_run_time,
                        j.max_instances, j.coalesce, j.misfire_grace_time)


def add_job(project, argv: Sequence[str], *, cron: str | None = None,
            every_seconds: float | None = None,
            misfire_grace_s: int = DEFAULT_MISFIRE_GRACE_S) -> ScheduledJob:
    """Store a job running ``workbench <argv>`` on a cron expression or interval."""
    trigger = _trigger(cron, every_seconds)
    argv = _validate_command(project, argv)
    job_id = uuid.uuid4().hex[:8]
    from apscheduler.job import Job

    sched, store = _jobstore(project)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        # the public reference survives module moves (see migration 0002_schedule_job_ref)
        job = Job(sched, id=job_id, func=JOB_FUNC, trigger=trigger,
                  args=[str(project.root), job_id, argv], kwargs={}, name=" ".join(argv),
                  misfire_grace_time=misfire_grace_s, coalesce=True, max_instances=1,
                  executor="default", next_run_time=trigger.get_next_fire_time(None, now))
        store.add_job(job)
        return _job(job)
    finally:
        store.shutdown()


def list_jobs(project) -> list[ScheduledJob]:
    """Every stored job, soonest first."""
    _, store = _jobstore(project)
    try:
        return sorted((_job(j) for j in store.get_all_jobs()),
                      key=lambda j: (j.next_run is None, j.next_run or dt.datetime.max))
    finally:
        store.shutdown()


def remove_job(project, job_id: str) -> None:
    from apscheduler.jobstores.base import JobLookupError

    _, store = _jobstore(project)
    try:
        try:
            store.remove_job(job_id)
        except JobLookupError:
            ids = [j.id for j in store.get_all_jobs()]
            raise NotFoundError(f"no scheduled job '{job_id}'{did_you_mean(job_id, ids)}; jobs: "
                                + (", ".join(ids) or "none")) from None
    finally:
        store.shutdown()


def run_job(project_root: str, job_id: str, argv: list[str]) -> int:
    """What a job does: run ``workbench <argv>`` as a subprocess and record the outcome."""
    from ..core.project import Project
    from ..core.store import Store

    store = Store(Project(Path(project_root)).db_url)
    run_id = store.start_run("schedule", name=job_id, config={"command": argv})
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()",
           "--project", project_root, *argv]
    env = {**os.environ, "WORKBENCH_SCHEDULE_JOB": job_id}
    try:
        proc = subprocess.run(cmd, cwd=project_root, env=env, capture_output=True, text=True)
    except BaseException as exc:  # noqa: BLE001 - record, then let APScheduler log it
        store.finish_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    lines = [x for x in proc.stderr.strip().splitlines() if x.strip()]
    outputs = {"exit_code": proc.returncode, "stdout_tail": proc.stdout[-2000:],
               "stderr_tail": proc.stderr[-2000:]}
    if proc.returncode in (0, 1):  # passed / checks failed: the run itself worked
        store.finish_run(run_id, outputs=outputs)
    else:
        store.finish_run(run_id, status="failed", outputs=outputs,
                         error=lines[-1] if lines else f"exit code {proc.returncode}")
    return proc.returncode


def run_scheduler(project, *, for_seconds: float | None = None,
                  on_event: Callable[[str], None] | None = None,
                  poll_s: float = 5.0) -> None:
    """Run stored jobs in the foreground until interrupted (or ``for_seconds`` pass).

    Jobs added by other processes are picked up within ``poll_s`` seconds.
    """
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    say = on_event or (lambda msg: None)
    sched = _scheduler(project)

    def listener(event) -> None:
        if event.code == EVENT_JOB_MISSED:
            say(f"job {event.job_id}: missed its run at {event.scheduled_run_time}")
        elif event.code == EVENT_JOB_ERROR:
            say(f"job {event.job_id}: the scheduler could not run it: {event.exception}")
        else:
            say(f"job {event.job_id}: exit code {event.retval}")

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    sched.start()
    start = time.monotonic()
    last_poll = start
    try:
        while for_seconds is None or time.monotonic() - start < for_seconds:
            time.sleep(0.2)
            if time.monotonic() - last_poll >= poll_s:
                sched.wakeup()
                last_poll = time.monotonic()
    finally:
        # pause first so the scheduler thread stops submitting before the pool closes
        sched.pause()
        time.sleep(0.5)
        sched.shutdown(wait=True)


__all__ = ["ScheduledJob", "add_job", "list_jobs", "remove_job", "run_job", "run_scheduler"]
