"""Alerts for scheduled checks: a JSON summary POSTed to a URL or piped into a command.

A scheduled run alerts when its check fails (exit 1), breaks (exit 2 or 3, a crash, or no
check recorded) or recovers (passes after a failed or broken run). Delivery is retried
with exponential backoff; an alert that still cannot be delivered is returned as such (the
scheduler records it on the run) and never raises, so one bad webhook cannot stop the
scheduler.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ..core.errors import ConfigError

AlertEvent = Literal["failed", "broken", "recovered"]
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 2.0
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class NotifySpec:
    """Where a job's alerts go: a URL (POST), a command (JSON on stdin), or both."""

    url: str | None = None
    command: str | None = None
    retries: int = DEFAULT_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S

    def __post_init__(self) -> None:
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"notify URL must be an http:// or https:// address; "
                                  f"got '{self.url}'", param="notify")
        if self.command is not None and not shlex.split(self.command):
            raise ConfigError("notify command is empty", param="notify_command")
        if self.retries < 0:
            raise ConfigError(f"notify retries must be 0 or more; got {self.retries}",
                              param="notify_retries")
        if self.backoff_s < 0:
            raise ConfigError(f"notify backoff must be 0 or more seconds; got {self.backoff_s}",
                              param="notify_backoff")

    @property
    def targets(self) -> list[str]:
        return [t for t in (self.url, self.command and f"command: {self.command}") if t]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlertDelivery:
    """What happened to one alert at one target."""

    target: str
    event: AlertEvent
    delivered: bool
    attempts: int
    error: str | None
    at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def alert_event(outcome: str, previous: str | None) -> AlertEvent | None:
    """The alert a run's outcome calls for, given the job's previous outcome (or None).

    >>> alert_event("failed", "passed"), alert_event("passed", "broken")
    ('failed', 'recovered')
    >>> alert_event("passed", "passed") is None and alert_event("passed", None) is None
    True
    """
    if outcome in ("failed", "broken"):
        return outcome  # type: ignore[return-value]
    if outcome == "passed" and previous in ("failed", "broken"):
        return "recovered"
    return None


def alert_text(summary: dict[str, Any]) -> str:
    """The one-paragraph, Slack-compatible ``text`` of an alert."""
    head = {"failed": "FAILED", "broken": "BROKEN", "recovered": "RECOVERED"}[summary["event"]]
    if summary.get("suite") or summary.get("dataset"):
        where = f"suite {summary.get('suite') or '?'} on {summary.get('dataset') or '?'}"
    else:  # no check run recorded (a broken run): the job's own command says what it checks
        where = summary.get("command") or "the check"
    line = f"workbench schedule {summary['job']}: {head}: {where}"
    if summary["event"] == "failed":
        rules = summary.get("failed_rules") or []
        line += f": {len(rules)} rule(s) failed: " + "; ".join(
            f"{r['rule']} ({r['unexpected_count']} unexpected)" for r in rules[:10])
        if len(rules) > 10:
            line += f"; and {len(rules) - 10} more"
    elif summary["event"] == "broken":
        line += f": {summary.get('error') or 'the check did not run'}"
    else:
        line += ": every rule passes again"
    if summary.get("report"):
        line += f". Report: {summary['report']}"
    return line


def _post(url: str, body: bytes) -> None:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "workbench-scheduler"})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        resp.read()


class _CommandFailed(RuntimeError):
    pass


def _pipe(command: str, body: bytes, cwd: str | None) -> None:
    proc = subprocess.run(shlex.split(command), check=False, input=body, capture_output=True,
                          cwd=cwd, timeout=60)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise _CommandFailed(f"exit code {proc.returncode}" + (f": {tail[-1]}" if tail else ""))


def _error(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, _CommandFailed):
        return str(exc)
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"did not finish within {exc.timeout:g}s"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach it: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def deliver(summary: dict[str, Any], spec: NotifySpec, *, cwd: str | None = None,
            sleep=time.sleep) -> list[AlertDelivery]:
    """Send ``summary`` to every target of ``spec``, retrying with backoff; never raises.

    Attempt ``k`` (from 1) that fails waits ``backoff_s * 2**(k-1)`` seconds before the
    next one; after ``1 + retries`` attempts the alert is reported as undelivered.
    """
    body = json.dumps(summary, default=str).encode()
    out = []
    senders = []
    if spec.url:
        senders.append((spec.url, lambda: _post(spec.url, body)))
    if spec.command:
        senders.append((f"command: {spec.command}", lambda: _pipe(spec.command, body, cwd)))
    for target, send in senders:
        error = None
        attempts = 0
        for attempts in range(1, spec.retries + 2):
            try:
                send()
                error = None
                break
            except Exception as exc:  # noqa: BLE001 - any failure is an undelivered attempt
                error = _error(exc)
                if attempts <= spec.retries:
                    sleep(spec.backoff_s * 2 ** (attempts - 1))
        out.append(AlertDelivery(target=target, event=summary["event"],
                                 delivered=error is None, attempts=attempts, error=error,
                                 at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    return out


__all__ = ["AlertDelivery", "NotifySpec", "alert_event", "alert_text", "deliver"]
