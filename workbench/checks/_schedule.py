"""Scheduled checks: APScheduler 3 jobs kept in the store's database.

``add_job`` stores a job (cron expression or a fixed interval) in an
``SQLAlchemyJobStore`` on the project's database URL, so jobs survive restarts and
every process sees the same list. ``run_scheduler`` runs them in the foreground.
Each job runs the workbench CLI as a subprocess (``python -m workbench``; a crash
cannot take the scheduler down), which records its own check run; the scheduler records a
``schedule`` run linked both ways with that check run, and judges it: ``passed``, ``failed``
(rules failed, exit 1) or ``broken`` (exit 2/3, a crash, or no check run recorded: a run
that did not check anything is never "succeeded"). Failed, broken and recovered runs send
the job's alerts (``_alerts``). One run at a time per job (``max_instances=1``); runs
missed while no scheduler was up are run once (``coalesce=True``) if they are less than
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

from ..core.errors import ConfigError, NotFoundError, did_you_mean
from ._alerts import NotifySpec

TABLE = "workbench_schedule"
DEFAULT_MISFIRE_GRACE_S = 3600
JOB_FUNC = "workbench.checks:run_job"  # how stored jobs name the function they run
SCHEDULABLE = ("check",)


@dataclass(frozen=True)
class ScheduledJob:
    """One stored job, with what its last run found and what its last alert did."""

    id: str
    command: list[str]
    trigger: str
    next_run: dt.datetime | None
    max_instances: int
    coalesce: bool
    misfire_grace_s: int | None
    notify: dict | None = None
    last_run: dict | None = None
    last_alert: dict | None = None

    @property
    def last_result(self) -> str:
        """``passed``, ``FAILED: 2 rules``, ``BROKEN: ...`` or ``never run``."""
        return describe_outcome(self.last_run)

    def to_dict(self) -> dict:
        return {"id": self.id, "command": self.command, "trigger": self.trigger,
                "next_run": self.next_run.isoformat(timespec="seconds") if self.next_run else None,
                "max_instances": self.max_instances, "coalesce": self.coalesce,
                "misfire_grace_s": self.misfire_grace_s, "notify": self.notify,
                "last_run": self.last_run, "last_result": self.last_result,
                "last_alert": self.last_alert}


def describe_outcome(run: dict | None) -> str:
    """One line for a schedule run's summary (``last_run`` of a job)."""
    if not run:
        return "never run"
    if run.get("status") == "running":
        return f"running (run {run['run_id']})"
    outcome = run.get("outcome")
    if outcome is None:  # recorded by a release that did not judge runs
        return f"exit code {run.get('exit_code')} (run {run['run_id']}, not judged)"
    if outcome == "passed":
        return f"passed (check run {run['check_run_id']})"
    if outcome == "failed":
        n = len(run.get("failed_rules") or [])
        return f"FAILED: {n} rule{'s' if n != 1 else ''} (check run {run['check_run_id']})"
    return f"BROKEN: {run.get('error') or 'no check recorded'}"


def describe_alert(alert: dict | None) -> str:
    """One line for a run's alert (``last_alert`` of a job): what went where."""
    if not alert:
        return "none"
    parts = [f"delivered to {d['target']}" if d["delivered"] else
             f"NOT delivered to {d['target']} after {d['attempts']} attempt(s): {d['error']}"
             for d in alert["deliveries"]]
    return (f"for a {alert['event']} run (run {alert['run_id']}, {alert['at']}): "
            + "; ".join(parts))


def _run_summary(run) -> dict:
    o = run.outputs
    return {"run_id": run.id, "status": run.status, "started": run.started.isoformat(
                timespec="seconds"), "outcome": o.get("outcome"), "exit_code": o.get("exit_code"),
            "check_run_id": o.get("check_run_id"), "failed_rules": o.get("failed_rules") or [],
            "report": o.get("report"), "error": run.error}


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
        timezone=dt.UTC)


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
        raise ConfigError("give either a cron expression or an interval in seconds "
                          f"({'not both' if cron is not None else 'neither was given'})",
                          param="cron")
    if every_seconds is not None:
        if every_seconds <= 0:
            raise ConfigError(f"the interval must be a positive number of seconds; "
                              f"got {every_seconds:g}", param="every_seconds")
        return IntervalTrigger(seconds=every_seconds, timezone=dt.UTC)
    try:
        return CronTrigger.from_crontab(cron, timezone=dt.UTC)
    except ValueError as exc:
        raise ConfigError(f"'{cron}' is not a crontab expression ({exc}); use five fields: "
                          "minute hour day month weekday, e.g. '*/15 * * * *'",
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
        raise ConfigError("COMMAND: only checks can be scheduled: "
                          "schedule add --cron EXPR -- check DATA --suite FILE")
    suite_at = next((i for i, a in enumerate(argv) if a in ("--suite", "-s")), None)
    positional = [a for i, a in enumerate(argv[1:], 1)
                  if not a.startswith("-") and (suite_at is None or i != suite_at + 1)]
    if suite_at is None or suite_at + 1 >= len(argv) or not positional:
        raise ConfigError("COMMAND: expected 'check DATA --suite FILE'")
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


def _job(j, history: dict | None = None) -> ScheduledJob:
    last_run, last_alert = (history or {}).get(j.id, (None, None))
    return ScheduledJob(j.id, list(j.args[2]), _describe(j.trigger), j.next_run_time,
                        j.max_instances, j.coalesce, j.misfire_grace_time,
                        notify=j.kwargs.get("notify"), last_run=last_run, last_alert=last_alert)


def _history(project) -> dict[str, tuple[dict | None, dict | None]]:
    """Per job id: its newest schedule run and its newest alert (newest first)."""
    from ..core.store import Store

    out: dict[str, list] = {}
    for run in Store.for_project(project).list_runs("schedule"):
        last = out.setdefault(run.name, [None, None])
        if last[0] is None:
            last[0] = _run_summary(run)
        if last[1] is None and run.outputs.get("alerts"):
            alerts = run.outputs["alerts"]
            last[1] = {"run_id": run.id, "event": alerts[0]["event"], "at": alerts[0]["at"],
                       "delivered": all(a["delivered"] for a in alerts), "deliveries": alerts}
    return {k: (v[0], v[1]) for k, v in out.items()}


def add_job(project, argv: Sequence[str], *, cron: str | None = None,
            every_seconds: float | None = None,
            misfire_grace_s: int = DEFAULT_MISFIRE_GRACE_S,
            notify: NotifySpec | None = None) -> ScheduledJob:
    """Store a job running ``workbench <argv>`` on a cron expression or interval.

    ``notify`` says where alerts go when a run fails, breaks or recovers.
    """
    trigger = _trigger(cron, every_seconds)
    if misfire_grace_s < 1:
        raise ConfigError(f"misfire grace must be at least 1 second; got {misfire_grace_s}",
                          param="misfire_grace")
    argv = _validate_command(project, argv)
    job_id = uuid.uuid4().hex[:8]
    from apscheduler.job import Job

    sched, store = _jobstore(project)
    try:
        now = dt.datetime.now(dt.UTC)
        # the public reference survives module moves (see migration 0002_schedule_job_ref)
        job = Job(sched, id=job_id, func=JOB_FUNC, trigger=trigger,
                  args=[str(project.root), job_id, argv],
                  kwargs={"notify": notify.to_dict()} if notify else {}, name=" ".join(argv),
                  misfire_grace_time=misfire_grace_s, coalesce=True, max_instances=1,
                  executor="default", next_run_time=trigger.get_next_fire_time(None, now))
        store.add_job(job)
        return _job(job)
    finally:
        store.shutdown()


def list_jobs(project) -> list[ScheduledJob]:
    """Every stored job, soonest first, with its last result and last alert."""
    history = _history(project)
    _, store = _jobstore(project)
    try:
        return sorted((_job(j, history) for j in store.get_all_jobs()),
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


def _check_run_of(store, job_id: str, schedule_run_id: int):
    """The check run a job's command recorded (after its schedule run opened), or None.

    One run at a time per job (``max_instances=1``), so the newest check run tagged with
    this job and opened after this schedule run is the one its command made.
    """
    for run in store.list_runs("check", limit=200):
        if run.id <= schedule_run_id:
            return None
        if run.config.get("scheduled_job") == job_id:
            return run
    return None


def _previous_outcome(store, job_id: str, schedule_run_id: int) -> str | None:
    for run in store.list_runs("schedule", limit=500):
        if run.name == job_id and run.id < schedule_run_id and run.outputs.get("outcome"):
            return run.outputs["outcome"]
    return None


def _report_of(store, check_run_id: int) -> str | None:
    return next((r["path"] for r in store.list_reports("check")
                 if r["run_id"] == check_run_id), None)


def _judge(exit_code: int | None, check, crash: str | None, stderr: str) -> tuple[str, str | None]:
    """``(outcome, error)``: passed / failed (rules failed) / broken (the check did not run)."""
    lines = [x.strip() for x in stderr.strip().splitlines() if x.strip()]
    said = lines[-1] if lines else None
    if crash is not None:
        return "broken", crash
    if check is None:
        return "broken", (f"the command recorded no check run (exit code {exit_code}"
                          + (f": {said})" if said else ")"))
    if check.status != "succeeded":
        return "broken", f"check run {check.id} {check.status}: {check.error or said or ''}".strip()
    success = check.outputs.get("success")
    if exit_code == 0 and success is True:
        return "passed", None
    if exit_code == 1 and success is False:
        return "failed", None
    return "broken", (f"exit code {exit_code} after check run {check.id} "
                      f"{'passed' if success else 'failed'}" + (f": {said}" if said else ""))


def _failed_rules(check) -> list[dict]:
    if check is None:
        return []
    rows = (check.outputs.get("result") or {}).get("results") or []
    return [{"rule": f"{r['expectation']}({r['column']})" if r.get("column") else r["expectation"],
             "unexpected_count": r.get("unexpected_count"),
             "unexpected_percent": r.get("unexpected_percent")}
            for r in rows if not r.get("success")]


def run_job(project_root: str, job_id: str, argv: list[str], *,
            notify: dict | None = None) -> int:
    """What a job does: run ``workbench <argv>`` as a subprocess and record what happened.

    The ``schedule`` run is linked both ways with the check run the command recorded
    (``outputs.check_run_id``; the check run's ``config.trigger`` is ``schedule:<job>``
    and ``config.schedule_run`` this run). Its ``outputs.outcome`` is ``passed`` (status
    succeeded), ``failed`` (rules failed, exit 1) or ``broken`` (exit 2/3, a crash, or no
    check run recorded); the last two are failed runs. Alerts go out on failed, broken
    and recovered runs when the job has a ``notify`` target, and are recorded on the run.
    Returns the command's exit code (-1 when it could not start).
    """
    from ..core.project import Project
    from ..core.store import Store
    from ._alerts import NotifySpec, alert_event, alert_text, deliver

    store = Store(Project(Path(project_root)).db_url)
    run_id = store.start_run("schedule", name=job_id,
                             config={"command": argv, "job": job_id, "notify": notify})
    # `-m workbench`, not `-c`: under `python -c` pyspark's import-time check takes the
    # process for a doctest run and exits 0 without running anything (OFFLINE.md)
    cmd = [sys.executable, "-m", "workbench", "--project", project_root, *argv]
    env = {**os.environ, "WORKBENCH_SCHEDULE_JOB": job_id}  # record_check tags the run
    exit_code, stdout, stderr, crash = None, "", "", None
    try:
        proc = subprocess.run(cmd, check=False, cwd=project_root, env=env, capture_output=True,
                              text=True)
        exit_code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except Exception as exc:  # noqa: BLE001 - recorded as a broken run, the scheduler goes on
        crash = f"the command could not start: {type(exc).__name__}: {exc}"
    check = _check_run_of(store, job_id, run_id)
    if check is not None:
        store.update_run(check.id, config={**check.config, "trigger": f"schedule:{job_id}",
                                           "schedule_run": run_id})
    outcome, error = _judge(exit_code, check, crash, stderr)
    result = (check.outputs.get("result") or {}) if check is not None else {}
    outputs = {"outcome": outcome, "exit_code": exit_code,
               "check_run_id": check.id if check is not None else None,
               "suite": result.get("suite") or (check.name if check is not None else None),
               "dataset": check.outputs.get("dataset_ref") if check is not None else None,
               "failed_rules": _failed_rules(check),
               "report": _report_of(store, check.id) if check is not None else None,
               "stdout_tail": stdout[-2000:], "stderr_tail": stderr[-2000:], "alerts": []}
    previous = _previous_outcome(store, job_id, run_id)
    store.finish_run(run_id, status="succeeded" if outcome == "passed" else "failed",
                     outputs=outputs, error=error)
    event = alert_event(outcome, previous)
    if notify and event:
        try:
            spec = NotifySpec(**notify)
            summary = {"job": job_id, "event": event, "outcome": outcome,
                       "previous_outcome": previous, "schedule_run_id": run_id,
                       "check_run_id": outputs["check_run_id"], "exit_code": exit_code,
                       "suite": outputs["suite"], "dataset": outputs["dataset"],
                       "failed_rules": outputs["failed_rules"], "report": outputs["report"],
                       "error": error, "command": "workbench " + " ".join(argv)}
            summary["text"] = alert_text(summary)
            outputs["alerts"] = [d.to_dict() for d in deliver(summary, spec, cwd=project_root)]
        except Exception as exc:  # noqa: BLE001 - an alert never stops the scheduler
            target = ", ".join(str(notify[k]) for k in ("url", "command") if notify.get(k))
            outputs["alerts"] = [{"target": target, "event": event,
                                  "delivered": False, "attempts": 0,
                                  "error": f"{type(exc).__name__}: {exc}", "at": None}]
        store.update_run(run_id, outputs=outputs)
    return exit_code if exit_code is not None else -1


def _wait_for_running(sched, timeout_s: float = 3600.0) -> None:
    """Block while any job is still running (the scheduler is paused: none start)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # counts, not keys: APScheduler can leave a job's count at 0 in the dict (a run
        # dropped as missed completes before its submit counts it), which is not running
        if not any(n > 0 for ex in sched._executors.values()
                   for n in (getattr(ex, "_instances", None) or {}).values()):
            return
        time.sleep(0.2)


def run_scheduler(project, *, for_seconds: float | None = None,
                  on_event: Callable[[str], None] | None = None,
                  poll_s: float = 5.0) -> None:
    """Run stored jobs in the foreground until interrupted (or ``for_seconds`` pass).

    Jobs added by other processes are picked up within ``poll_s`` seconds. On the way out
    no new run starts, and runs under way finish and are recorded.
    """
    import logging

    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        EVENT_JOB_MAX_INSTANCES,
        EVENT_JOB_MISSED,
        EVENT_JOB_SUBMITTED,
    )

    from ..core.store import Store

    # every event APScheduler logs is reported through on_event instead
    logging.getLogger("apscheduler").propagate = False
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())
    say = on_event or (lambda msg: None)
    store = Store.for_project(project)
    sched = _scheduler(project)

    def at(t) -> str:
        return f"{t:%H:%M:%S}" if t else "?"

    def listener(event) -> None:
        try:
            if event.code == EVENT_JOB_SUBMITTED:
                due = event.scheduled_run_times[-1]
                late = (dt.datetime.now(dt.UTC) - due).total_seconds()
                job = sched.get_job(event.job_id)
                grace = job.misfire_grace_time if job is not None else None
                if grace is not None and late > grace:
                    return  # the executor drops it as missed (EVENT_JOB_MISSED says so)
                say(f"job {event.job_id}: run due at {at(due)} started"
                    + (f" ({late:.0f}s late: a catch-up, missed runs coalesced into one)"
                       if late >= 1.5 else ""))
            elif event.code == EVENT_JOB_MISSED:
                say(f"job {event.job_id}: missed its run at {at(event.scheduled_run_time)} "
                    "(later than its misfire grace); waiting for the next one")
            elif event.code == EVENT_JOB_MAX_INSTANCES:
                say(f"job {event.job_id}: still running; skipped its run at "
                    f"{at(event.scheduled_run_times[-1])}")
            elif event.code == EVENT_JOB_ERROR:
                say(f"job {event.job_id}: the scheduler could not run it: {event.exception}")
            else:
                run = next((r for r in store.list_runs("schedule", limit=50)
                            if r.name == event.job_id), None)
                summary = _run_summary(run) if run else None
                line = f"job {event.job_id}: {describe_outcome(summary)}"
                if summary:
                    line += f" (schedule run {summary['run_id']}, exit code {event.retval})"
                    alerts = run.outputs.get("alerts") or []
                    if alerts:
                        line += "; alert " + describe_alert(
                            {"run_id": run.id, "event": alerts[0]["event"],
                             "at": alerts[0]["at"], "deliveries": alerts})
                say(line)
        except Exception as exc:  # noqa: BLE001 - reporting never stops the scheduler
            say(f"job {getattr(event, 'job_id', '?')}: {type(exc).__name__}: {exc}")

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
                       | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_SUBMITTED)
    say(f"scheduler up at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC")
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
        # Paused, the scheduler starts nothing; shut down only once the runs under way are
        # done, so its thread never submits to a closed pool
        sched.pause()
        _wait_for_running(sched)
        sched.shutdown(wait=True)


__all__ = ["ScheduledJob", "add_job", "describe_alert", "describe_outcome", "list_jobs", "remove_job", "run_job", "run_scheduler"]
