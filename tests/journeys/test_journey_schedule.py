"""The scheduler as a user runs it: the installed ``workbench`` console script, a fresh
project from ``workbench init``, a suite of ordinary Great Expectations rules, alerts to a
local webhook, and the recorded outcome of every run."""

from __future__ import annotations

import json

import pytest

from tests.checks.test_schedule import Hook
from tests.conftest import run_cli

BAD = "id,question\n1,How do I reset it?\n2,\n2,Where is my order?\n"
GOOD = "id,question\n1,How do I reset it?\n2,Where is my order?\n3,Can I return it?\n"
SUITE = ("expectations:\n"
         "  - {type: expect_column_values_to_not_be_null, column: question}\n"
         "  - {type: expect_column_values_to_be_unique, column: id}\n")


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.slow
def test_scheduled_checks_journey(tmp_path):
    hook = Hook(fail=1)  # the webhook is down for the first delivery attempt
    try:
        _journey(tmp_path, hook)
    finally:
        hook.close()


def _journey(tmp_path, hook):
    ok(run_cli("init", str(tmp_path / "proj")))
    cwd = tmp_path / "proj"
    (tmp_path / "tickets.csv").write_text(BAD)
    ok(run_cli("data", "import", str(tmp_path / "tickets.csv"), "--name", "tickets", cwd=cwd))
    (cwd / "checks" / "tickets.yaml").write_text(SUITE)

    bad = run_cli("schedule", "add", "--every-seconds", "3", "--bogus", "--", "check",
                  "tickets", "--suite", "checks/tickets.yaml", cwd=cwd)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert bad.stderr.startswith("workbench schedule add: no such option --bogus")

    add = ok(run_cli("schedule", "add", "--every-seconds", "3", "--notify", hook.url,
                     "--notify-retries", "2", "--notify-backoff", "0.2", "--json", "-", "--",
                     "check", "tickets", "--suite", "checks/tickets.yaml", cwd=cwd))
    job = json.loads(add.stdout)
    assert f"added job {job['id']}: every 3s: workbench check tickets" in add.stderr
    assert f"alerts (failed, broken, recovered runs) go to: {hook.url}" in add.stderr

    # 1. the data has a missing question and a duplicate id: the scheduled check fails
    run1 = ok(run_cli("schedule", "run", "--for-seconds", "4", cwd=cwd, timeout=180))
    assert "scheduler running with 1 job(s)" in run1.stdout
    assert f"job {job['id']}: FAILED: 2 rules (check run " in run1.stdout
    assert "alert for a failed run (run " in run1.stdout and f"delivered to {hook.url}" in run1.stdout
    [listed] = json.loads(ok(run_cli("schedule", "list", "--json", "-", cwd=cwd)).stdout)
    assert listed["last_run"]["outcome"] == "failed"
    assert listed["last_alert"]["event"] == "failed" and listed["last_alert"]["delivered"]
    assert listed["last_alert"]["deliveries"][0]["attempts"] == 2  # one 500, then accepted
    shown = ok(run_cli("schedule", "list", cwd=cwd)).stdout
    assert "FAILED: 2 rules" in shown and "for a failed run (run" in shown

    # 2. the team imports fixed data: the next scheduled check passes and says it recovered
    (tmp_path / "tickets.csv").write_text(GOOD)
    ok(run_cli("data", "import", str(tmp_path / "tickets.csv"), "--name", "tickets", cwd=cwd))
    run2 = ok(run_cli("schedule", "run", "--for-seconds", "4", cwd=cwd, timeout=180))
    assert f"job {job['id']}: passed (check run " in run2.stdout
    assert "alert for a recovered run (run " in run2.stdout

    # every schedule run records its outcome and the check run it launched
    runs = json.loads(ok(run_cli("runs", "list", "--kind", "schedule", "--json", "-",
                                 cwd=cwd)).stdout)
    outcomes = {}
    for r in runs:
        out = r["outputs"]
        assert out["outcome"] in ("passed", "failed") and out["check_run_id"], out
        assert r["status"] == ("succeeded" if out["outcome"] == "passed" else "failed")
        outcomes[out["check_run_id"]] = out["outcome"]
    assert sorted(set(outcomes.values())) == ["failed", "passed"]

    # `check history` lists exactly the scheduled check runs, triggered by the job
    hist = json.loads(ok(run_cli("check", "history", "--json", "-", cwd=cwd)).stdout)
    assert {h["run_id"] for h in hist} == set(outcomes)
    assert all(h["scheduled_job"] == job["id"] for h in hist)
    for h in hist:
        assert h["success"] is (outcomes[h["run_id"]] == "passed")
    failed = [h for h in hist if h["success"] is False]
    assert failed[-1]["failed_rules"] == ["expect_column_values_to_not_be_null(question)",
                                          "expect_column_values_to_be_unique(id)"]
    table = ok(run_cli("check", "history", cwd=cwd)).stdout
    assert f"schedule {job['id']}" in table and "manual" not in table

    # the webhook got a JSON summary per alert, with a Slack-compatible text
    events = [b["event"] for _, b in hook.bodies]
    assert events[0] == "failed" and events[-1] == "recovered"
    first = hook.bodies[0][1]
    assert first["job"] == job["id"] and first["suite"] == "tickets"
    assert first["dataset"].startswith("tickets@")
    assert {"rule": "expect_column_values_to_be_unique(id)", "unexpected_count": 2,
            "unexpected_percent": pytest.approx(66.667, abs=0.01)} in first["failed_rules"]
    assert first["report"].endswith(".html") and (cwd / "reports").exists()
    assert first["text"].startswith(f"workbench schedule {job['id']}: FAILED: suite tickets")
