"""Scheduled checks: jobs persist in the store, run on time as subprocesses, show in history."""

from __future__ import annotations

import json
import time

import pytest

from conftest import ROOT, run_cli
from workbench.core.errors import WorkbenchError


@pytest.fixture
def sched_project(project):
    from workbench.data import import_dataset

    import_dataset(project, str(ROOT / "workbench" / "demo" / "support_qa.csv"), name="qa")
    # workbench rules only: the scheduled check needs no Great Expectations import (fast)
    (project.checks_dir / "ws.yaml").write_text(
        "expectations:\n  - {type: expect_column_values_to_not_have_stray_whitespace, "
        "column: question}\n")
    return project


def test_jobs_persist_with_one_instance_coalesce_and_grace(sched_project):
    from workbench.checks import add_job, list_jobs, remove_job

    job = add_job(sched_project, ["check", "qa", "--suite", "checks/ws.yaml"],
                  cron="*/15 * * * *", misfire_grace_s=600)
    [stored] = list_jobs(sched_project)  # read back from the database: survives restarts
    assert stored.id == job.id and stored.trigger == "cron */15 * * * *"
    assert (stored.max_instances, stored.coalesce, stored.misfire_grace_s) == (1, True, 600)
    assert stored.next_run.minute % 15 == 0
    assert stored.command == ["check", "qa", "--suite", "checks/ws.yaml"]
    remove_job(sched_project, job.id)
    assert list_jobs(sched_project) == []


@pytest.mark.parametrize("argv,kw,message", [
    (["check", "qa", "--suite", "checks/ws.yaml"], {"cron": "61 * * * *"},
     r"cron: '61 \* \* \* \*' is not a crontab expression"),
    (["check", "qa", "--suite", "checks/ws.yaml"], {}, r"give exactly one of --cron"),
    (["data", "list"], {"cron": "* * * * *"}, r"COMMAND: only checks can be scheduled"),
    (["check", "qa"], {"cron": "* * * * *"}, r"COMMAND: expected 'check DATA --suite FILE'"),
    (["check", "nope", "--suite", "checks/ws.yaml"], {"cron": "* * * * *"},
     r"no dataset named 'nope'"),
    (["check", "qa", "--suite", "checks/nope.yaml"], {"cron": "* * * * *"},
     r"nope.yaml: no such suite file"),
])
def test_bad_jobs_are_refused(sched_project, argv, kw, message):
    from workbench.checks import add_job, list_jobs, remove_job

    with pytest.raises(WorkbenchError, match=message):
        add_job(sched_project, argv, **kw)
    assert list_jobs(sched_project) == []
    with pytest.raises(WorkbenchError, match=r"no scheduled job 'zz'; jobs: none"):
        remove_job(sched_project, "zz")


@pytest.mark.slow
def test_scheduled_check_runs_on_time_and_shows_in_history(sched_project):
    cwd = sched_project.root
    proc = run_cli("schedule", "add", "--every-seconds", "2", "--json", "-", "--",
                   "check", "qa", "--suite", "checks/ws.yaml", "--no-data-docs", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    t0 = time.time()
    proc = run_cli("schedule", "run", "--for-seconds", "5", cwd=cwd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"job {job['id']}: exit code 1" in proc.stdout  # the check ran and found defects
    hist = json.loads(run_cli("check", "history", "--json", "-", cwd=cwd).stdout)
    assert hist and all(h["scheduled_job"] == job["id"] for h in hist)
    assert hist[-1]["success"] is False and hist[-1]["failed_rules"] == [
        "expect_column_values_to_not_have_stray_whitespace(question)"]
    from workbench.core.store import Store

    runs = Store.for_project(sched_project).list_runs("schedule")
    assert runs and runs[-1].outputs["exit_code"] == 1 and runs[-1].name == job["id"]
    # the first run started within a few seconds of the scheduler (not one per missed slot)
    assert time.time() - t0 < 30
    assert len(runs) <= 4
