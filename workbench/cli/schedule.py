"""`workbench schedule add|list|remove|run`: scheduled checks kept in the store."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperCommand


class _AddCommand(TyperCommand):
    """An unknown option names the usual cause: the scheduled command needs a '--' first."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:
            if type(exc).__name__ == "NoSuchOption" and "--" not in args:
                exc.hint = (" (put the command to schedule after '--': schedule add "
                            "--every-seconds N -- check DATA --suite FILE)")
            raise

schedule_app = typer.Typer(no_args_is_help=True, help="Schedule checks (jobs kept in the store).")


@schedule_app.command("add", cls=_AddCommand)
def add(
    command: Annotated[list[str], typer.Argument(help="After '--': the command to run, e.g. -- check DATA --suite checks/X.yaml")],
    cron: Annotated[str | None, typer.Option(help="Crontab expression (UTC), e.g. '*/15 * * * *'.")] = None,
    every_seconds: Annotated[float | None, typer.Option(help="Run every N seconds instead of a cron expression.")] = None,
    misfire_grace: Annotated[int, typer.Option(help="A run missed by less than this many seconds still runs (once).")] = 3600,
    notify: Annotated[str | None, typer.Option(metavar="URL", help="POST a JSON summary (with a Slack-compatible 'text') to URL when a run fails, breaks or recovers.")] = None,
    notify_command: Annotated[str | None, typer.Option(metavar="CMD", help="Run CMD with the same JSON summary on stdin when a run fails, breaks or recovers.")] = None,
    notify_retries: Annotated[int, typer.Option(help="Retries of an alert that could not be delivered.")] = 3,
    notify_backoff: Annotated[float, typer.Option(metavar="SECONDS", help="Wait before the first retry; doubled for each next one.")] = 2.0,
    json_out: Annotated[str | None, typer.Option("--json", metavar="PATH", help="Write the job as JSON to PATH ('-' for stdout).")] = None,
) -> None:
    """Add a scheduled job: workbench schedule add --cron '*/15 * * * *' -- check DATA --suite FILE."""
    from ..checks import NotifySpec, add_job
    from ..core.output import write_json
    from ._output import echo, get_project

    spec = (NotifySpec(url=notify, command=notify_command, retries=notify_retries,
                       backoff_s=notify_backoff) if notify or notify_command else None)
    job = add_job(get_project(), command, cron=cron, every_seconds=every_seconds,
                  misfire_grace_s=misfire_grace, notify=spec)
    echo(f"added job {job.id}: {job.trigger}: workbench {' '.join(job.command)}")
    if spec:
        echo(f"alerts (failed, broken, recovered runs) go to: {', '.join(spec.targets)}")
    echo(f"next run {job.next_run:%Y-%m-%d %H:%M:%S} UTC; jobs run while "
         "'workbench schedule run' is up")
    write_json(json_out, job.to_dict())


@schedule_app.command("list")
def list_(json_out: Annotated[str | None, typer.Option("--json", metavar="PATH", help="Write the jobs as JSON to PATH ('-' for stdout).")] = None) -> None:
    """List scheduled jobs, each with its last result and its last alert."""
    from ..checks import describe_alert, list_jobs
    from ..core.output import write_json
    from ._output import echo, get_project, table

    jobs = list_jobs(get_project())
    if jobs:
        echo(table([[j.id, j.trigger, f"{j.next_run:%Y-%m-%d %H:%M:%S}" if j.next_run else "paused",
                      "workbench " + " ".join(j.command), j.last_result,
                      describe_alert(j.last_alert) if j.notify else "no alerts set"]
                     for j in jobs],
                    ["id", "trigger", "next run (UTC)", "command", "last result",
                     "last alert"]))
    else:
        echo("no scheduled jobs: add one with "
             "workbench schedule add --cron '*/15 * * * *' -- check DATA --suite FILE")
    write_json(json_out, [j.to_dict() for j in jobs])


@schedule_app.command("remove")
def remove(job_id: Annotated[str, typer.Argument(metavar="ID", help="Job id (see schedule list).")]) -> None:
    """Remove a scheduled job."""
    from ..checks import remove_job
    from ._output import echo, get_project

    remove_job(get_project(), job_id)
    echo(f"removed job {job_id}")


@schedule_app.command("run")
def run(for_seconds: Annotated[float | None, typer.Option(help="Stop after N seconds (default: run until Ctrl-C).")] = None) -> None:
    """Run the scheduler in the foreground: each job runs the workbench CLI as a subprocess."""
    from ..checks import list_jobs, run_scheduler
    from ._output import echo, get_project

    project = get_project()
    echo(f"scheduler running with {len(list_jobs(project))} job(s); Ctrl-C to stop")
    run_scheduler(project, for_seconds=for_seconds, on_event=echo)
    echo("scheduler stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
