"""Scheduled checks: jobs persist in the store, run real Great Expectations suites as
subprocesses, are judged from the check run they recorded, alert, and catch up once."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import re
import sys
import threading
import time

import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError

ROWS = ("id,question\n1,How do I reset it?\n2,Where is my order?\n3,\n3,Can I return it?\n")
GOOD_ROWS = ("id,question\n1,How do I reset it?\n2,Where is my order?\n3,Can I return it?\n")
# ordinary Great Expectations rules: the scheduled check imports and runs GE for real
SUITE = ("expectations:\n"
         "  - {type: expect_column_values_to_not_be_null, column: question}\n"
         "  - {type: expect_column_values_to_be_unique, column: id}\n")


@pytest.fixture
def sched_project(project, tmp_path):
    from workbench.data import import_dataset

    (tmp_path / "qa.csv").write_text(ROWS)
    import_dataset(project, str(tmp_path / "qa.csv"), name="qa")
    (project.checks_dir / "ge.yaml").write_text(SUITE)
    return project


class Hook:
    """A real HTTP server on 127.0.0.1 that answers 500 to the first ``fail`` POSTs."""

    def __init__(self, fail: int = 0):
        self.fail, self.bodies, self.codes = fail, [], []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = 500 if len(hook.codes) < hook.fail else 200
                hook.codes.append(code)
                if code == 200:
                    hook.bodies.append((self.headers["Content-Type"], json.loads(body)))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    servers = []

    def make(fail: int = 0) -> Hook:
        servers.append(Hook(fail))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_jobs_persist_with_one_instance_coalesce_grace_and_alerts(sched_project):
    from workbench.checks import NotifySpec, add_job, list_jobs, remove_job

    job = add_job(sched_project, ["check", "qa", "--suite", "checks/ge.yaml"],
                  cron="*/15 * * * *", misfire_grace_s=600,
                  notify=NotifySpec(url="http://127.0.0.1:9/x", retries=1, backoff_s=0.5))
    [stored] = list_jobs(sched_project)  # read back from the database: survives restarts
    assert stored.id == job.id and stored.trigger == "cron */15 * * * *"
    assert (stored.max_instances, stored.coalesce, stored.misfire_grace_s) == (1, True, 600)
    assert stored.next_run.minute % 15 == 0
    assert stored.command == ["check", "qa", "--suite", "checks/ge.yaml"]
    assert stored.notify == {"url": "http://127.0.0.1:9/x", "command": None, "retries": 1,
                             "backoff_s": 0.5}
    assert (stored.last_result, stored.last_alert) == ("never run", None)
    remove_job(sched_project, job.id)
    assert list_jobs(sched_project) == []


@pytest.mark.parametrize("argv,kw,message", [
    (["check", "qa", "--suite", "checks/ge.yaml"], {"cron": "61 * * * *"},
     r"^'61 \* \* \* \*' is not a crontab expression \(.*\); use five fields: minute hour"),
    (["check", "qa", "--suite", "checks/ge.yaml"], {},
     r"^give either a cron expression or an interval in seconds \(neither was given\)$"),
    (["check", "qa", "--suite", "checks/ge.yaml"], {"cron": "* * * * *", "every_seconds": 5},
     r"^give either a cron expression or an interval in seconds \(not both\)$"),
    (["check", "qa", "--suite", "checks/ge.yaml"], {"every_seconds": -5},
     r"^the interval must be a positive number of seconds; got -5$"),
    (["data", "list"], {"cron": "* * * * *"}, r"COMMAND: only checks can be scheduled"),
    (["check", "qa"], {"cron": "* * * * *"}, r"COMMAND: expected 'check DATA --suite FILE'"),
    (["check", "nope", "--suite", "checks/ge.yaml"], {"cron": "* * * * *"},
     r"no dataset named 'nope'"),
    (["check", "qa", "--suite", "checks/nope.yaml"], {"cron": "* * * * *"},
     r"nope.yaml: no such suite file"),
    (["check", "qa", "--suite", "checks/ge.yaml"], {"cron": "* * * * *", "misfire_grace_s": 0},
     r"^misfire grace must be at least 1 second; got 0$"),
])
def test_bad_jobs_are_refused(sched_project, argv, kw, message):
    from workbench.checks import add_job, list_jobs, remove_job

    with pytest.raises(WorkbenchError, match=message):
        add_job(sched_project, argv, **kw)
    assert list_jobs(sched_project) == []
    with pytest.raises(WorkbenchError, match=r"no scheduled job 'zz'; jobs: none"):
        remove_job(sched_project, "zz")


@pytest.mark.parametrize("kw,message", [
    ({"url": "ftp://example.org/x"},
     r"^notify URL must be an http:// or https:// address; got 'ftp://example.org/x'$"),
    ({"url": "hooks.example.org"}, r"^notify URL must be an http:// or https:// address"),
    ({"command": "   "}, r"^notify command is empty$"),
    ({"url": "http://127.0.0.1:9/", "retries": -1}, r"^notify retries must be 0 or more; got -1$"),
    ({"url": "http://127.0.0.1:9/", "backoff_s": -2.0},
     r"^notify backoff must be 0 or more seconds; got -2.0$"),
])
def test_bad_notify_targets_are_refused(kw, message):
    from workbench.checks import NotifySpec

    with pytest.raises(WorkbenchError, match=message):
        NotifySpec(**kw)


@pytest.mark.parametrize("args,message", [
    (["--bogus", "--every-seconds", "5", "--", "check", "qa", "--suite", "checks/ge.yaml"],
     r"^workbench schedule add: no such option --bogus$"),
    (["--notfy", "http://127.0.0.1:9/", "--every-seconds", "5", "--", "check", "qa"],
     r"^workbench schedule add: no such option --notfy \(did you mean --notify\?\)"),
    (["--every-seconds", "5", "check", "qa", "--suite", "checks/ge.yaml"],
     r"^workbench schedule add: no such option --suite \(put the command to schedule "
     r"after '--'"),
    (["--every-seconds", "5", "--notify", "ftp://x", "--", "check", "qa", "--suite",
      "checks/ge.yaml"], r"^error: --notify: notify URL must be an http:// or https:// "
                        r"address"),
])
def test_schedule_add_refuses_bad_options_in_one_line(sched_project, args, message):
    proc = run_cli("schedule", "add", *args, cwd=sched_project.root)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(message, lines[0]), lines
    from workbench.checks import list_jobs

    assert list_jobs(sched_project) == []


def test_alerts_retry_with_backoff_until_the_server_accepts(hook, tmp_path):
    from workbench.checks import NotifySpec, deliver

    server = hook(fail=2)
    waits = []
    got = tmp_path / "stdin.json"
    script = tmp_path / "save.py"
    script.write_text(f"import sys; open({str(got)!r}, 'w').write(sys.stdin.read())\n")
    summary = {"job": "j1", "event": "failed", "text": "workbench schedule j1: FAILED"}
    spec = NotifySpec(url=server.url, command=f"{sys.executable} {script}", retries=3,
                      backoff_s=0.01)
    [web, cmd] = deliver(summary, spec, sleep=lambda s: (waits.append(s), time.sleep(s)))
    assert server.codes == [500, 500, 200] and waits == [0.01, 0.02]
    assert (web.delivered, web.attempts, web.error) == (True, 3, None)
    assert server.bodies == [("application/json", summary)]
    assert (cmd.delivered, cmd.attempts) == (True, 1) and json.loads(got.read_text()) == summary


def test_undeliverable_alerts_are_reported_not_raised(hook):
    from workbench.checks import NotifySpec, deliver

    server = hook(fail=99)
    spec = NotifySpec(url=server.url, command=f"{sys.executable} -c 'import sys; sys.exit(4)'",
                      retries=1, backoff_s=0.0)
    web, cmd = deliver({"job": "j", "event": "broken", "text": "x"}, spec)
    assert (web.delivered, web.attempts, web.error) == (False, 2, "HTTP 500 Internal Server Error")
    assert (cmd.delivered, cmd.attempts, cmd.error) == (False, 2, "exit code 4")


@pytest.mark.slow
def test_each_run_is_judged_linked_and_alerted(sched_project, hook, tmp_path):
    """Failed (rules fail, exit 1), recovered (passes again), broken (records no check)."""
    from workbench.checks import NotifySpec, check_history, list_jobs, run_job
    from workbench.core.store import Store
    from workbench.data import import_dataset

    server = hook(fail=1)
    notify = NotifySpec(url=server.url, retries=2, backoff_s=0.05).to_dict()
    root, argv = str(sched_project.root), ["check", "qa", "--suite", "checks/ge.yaml"]
    store = Store.for_project(sched_project)

    assert run_job(root, "j1", argv, notify=notify) == 1
    [run] = store.list_runs("schedule")
    out = run.outputs
    assert (run.status, out["outcome"], out["exit_code"]) == ("failed", "failed", 1)
    assert out["dataset"].startswith("qa@") and out["suite"] == "ge"
    assert out["failed_rules"] == [
        {"rule": "expect_column_values_to_not_be_null(question)", "unexpected_count": 1,
         "unexpected_percent": 25.0},
        {"rule": "expect_column_values_to_be_unique(id)", "unexpected_count": 2,
         "unexpected_percent": 50.0}]
    check = store.get_run(out["check_run_id"], "check")  # the link, both ways
    assert check.config["trigger"] == "schedule:j1" and check.config["schedule_run"] == run.id
    assert out["report"] and out["report"].endswith(".html")
    [alert] = out["alerts"]
    assert (alert["delivered"], alert["attempts"], alert["event"]) == (True, 2, "failed")
    [(ctype, body)] = server.bodies
    assert ctype == "application/json" and body["job"] == "j1" and body["event"] == "failed"
    assert body["dataset"] == out["dataset"] and body["failed_rules"] == out["failed_rules"]
    assert body["report"] == out["report"] and body["check_run_id"] == check.id
    assert body["text"].startswith("workbench schedule j1: FAILED: suite ge on qa@")
    assert "expect_column_values_to_be_unique(id) (2 unexpected)" in body["text"]

    (tmp_path / "qa.csv").write_text(GOOD_ROWS)  # the team fixes the data: a new version
    import_dataset(sched_project, str(tmp_path / "qa.csv"), name="qa")
    assert run_job(root, "j1", argv, notify=notify) == 0
    run = store.list_runs("schedule")[0]
    assert (run.status, run.outputs["outcome"], run.outputs["failed_rules"]) == (
        "succeeded", "passed", [])
    assert server.bodies[-1][1]["event"] == "recovered"
    assert "every rule passes again" in server.bodies[-1][1]["text"]

    # a command that exits 0 and records no check run is broken, never "succeeded"
    server.fail = 99
    assert run_job(root, "j1", ["--help"], notify=notify) == 0
    run = store.list_runs("schedule")[0]
    assert (run.status, run.outputs["outcome"], run.outputs["check_run_id"]) == (
        "failed", "broken", None)
    assert run.error == "the command recorded no check run (exit code 0)"
    [alert] = run.outputs["alerts"]  # recorded on the run, and run_job returned normally
    assert (alert["event"], alert["delivered"], alert["attempts"]) == ("broken", False, 3)
    assert alert["error"] == "HTTP 500 Internal Server Error"

    # a suite that no longer parses: broken, and the alert names the job's own command
    server.fail = 0
    (sched_project.checks_dir / "gone.yaml").write_text("expectations: [\n")
    assert run_job(root, "j1", ["check", "qa", "--suite", "checks/gone.yaml"],
                   notify=notify) == 2
    body = server.bodies[-1][1]
    assert (body["event"], body["suite"], body["dataset"]) == ("broken", None, None)
    assert body["text"].startswith(
        "workbench schedule j1: BROKEN: workbench check qa --suite checks/gone.yaml: "
        "the command recorded no check run (exit code 2: error: checks/gone.yaml:"), body

    hist = check_history(sched_project)
    assert [h.scheduled_job for h in hist] == ["j1", "j1"]
    assert [h.success for h in hist] == [True, False]
    assert list_jobs(sched_project) == []  # run_job works on its arguments, not a stored job


@pytest.mark.slow
def test_a_run_missed_while_stopped_is_caught_up_once_after_a_restart(sched_project):
    from workbench.checks import add_job, list_jobs
    from workbench.core.store import Store

    cwd = sched_project.root
    job = add_job(sched_project, ["check", "qa", "--suite", "checks/ge.yaml"],
                  every_seconds=4, misfire_grace_s=120)
    proc = run_cli("schedule", "run", "--for-seconds", "0.5", cwd=cwd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    store = Store.for_project(sched_project)
    before = len(store.list_runs("schedule"))  # 0, or 1 if it started slowly
    [stored] = list_jobs(sched_project)
    # the scheduler is down while two run times pass
    wait = (stored.next_run - dt.datetime.now(dt.UTC)).total_seconds() + 4.5
    time.sleep(max(wait, 0))
    # the window (2 s) is shorter than one check run, so no regular run can start in it
    proc = run_cli("schedule", "run", "--for-seconds", "2", cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    runs = store.list_runs("schedule")
    assert len(runs) == before + 1  # exactly one catch-up run for the missed slots
    run = runs[0]
    assert run.outputs["outcome"] == "failed" and run.outputs["check_run_id"]
    started = [ln for ln in proc.stdout.splitlines() if "started" in ln]
    assert len(started) == 1, proc.stdout
    due = dt.datetime.strptime(started[0].split("run due at ")[1][:8], "%H:%M:%S").time()
    up = [ln for ln in proc.stdout.splitlines() if ln.startswith("scheduler up at ")]
    up = dt.datetime.strptime(up[0].split(" at ")[1][:8], "%H:%M:%S").time()
    assert due <= up  # it ran for a time that passed while the scheduler was down
    assert f"job {job.id}: FAILED: 2 rules (check run {run.outputs['check_run_id']})" \
        in proc.stdout
    assert "cannot schedule new futures" not in proc.stderr


def test_a_run_missed_past_its_grace_is_skipped_and_the_scheduler_still_stops(sched_project):
    """A restart after the grace period: no run, one 'missed' line, and `--for-seconds`
    returns on time (it used to wait for a run APScheduler had already dropped)."""
    from workbench.checks import add_job
    from workbench.checks._schedule import _jobstore
    from workbench.core.store import Store

    job = add_job(sched_project, ["check", "qa", "--suite", "checks/ge.yaml"],
                  every_seconds=3600, misfire_grace_s=1)
    _, store = _jobstore(sched_project)
    try:  # the scheduler was down at the job's run time, 30 s ago
        stored = store.lookup_job(job.id)
        stored._modify(next_run_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30))
        store.update_job(stored)
    finally:
        store.shutdown()
    t0 = time.monotonic()
    proc = run_cli("schedule", "run", "--for-seconds", "2", cwd=sched_project.root, timeout=90)
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert f"job {job.id}: missed its run at" in proc.stdout, proc.stdout
    assert "started" not in proc.stdout, proc.stdout  # it was never run, so never "started"
    assert Store.for_project(sched_project).list_runs("schedule") == []
    assert took < 60, f"the scheduler took {took:.0f} s to stop"
