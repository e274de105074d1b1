"""`workbench schedule add|list|remove|run`: scheduled checks kept in the store."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

schedule_app = typer.Typer(no_args_is_help=True, help="Schedule checks (jobs kept in the store).")


@schedule_app.command("add", context_settings={"allow_extra_args": True,
                                               "ignore_unknown_options": True})
def add(
    command: Annotated[list[str], typer.Argument(help="After '--': the command to run, e.g. -- check DATA --suite checks/X.yaml")],
    cron: Annotated[Optional[str], typer.Option(help="Crontab expression (UTC), e.g. '*/15 * * * *'.")] = None,
    every_seconds: Annotated[Optional[float], typer.Option(help="Run every N seconds instead of a cron expression.")] = None,
    misfire_grace: Annotated[int, typer.Option(help="A run missed by less than this many seconds still runs (once).")] = 3600,
    json_out: Annotated[Optional[str], typer.Option("--json", metavar="PATH", help="Write the job as JSON to PATH ('-' for stdout).")] = None,
) -> None:
    """Add a scheduled job: workbench schedule add --cron '*/15 * * * *' -- check DATA --suite FILE."""
    from ..checks import add_job
    from ..core.output import write_json
    from ._output import echo, get_project

    job = add_job(get_project(), command, cron=cron, every_seconds=every_seconds,
                  misfire_grace_s=misfire_grace)
    echo(f"added job {job.id}: {job.trigger}: workbench {' '.join(job.command)}")
    echo(f"next run {job.next_run:%Y-%m-%d %H:%M:%S} UTC; jobs run while "
         "'workbench schedule run' is up")
    write_json(json_out, job.to_dict())


@schedule_app.command("list")
def list_(json_out: Annotated[Optional[str], typer.Option("--json", metavar="PATH", help="Write the jobs as JSON to PATH ('-' for stdout).")] = None) -> None:
    """List scheduled jobs."""
    from ..checks import list_jobs
    from ..core.output import write_json
    from ._output import echo, get_project, table

    jobs = list_jobs(get_project())
    if jobs:
        echo(table([[j.id, j.trigger, f"{j.next_run:%Y-%m-%d %H:%M:%S}" if j.next_run else "paused",
                      "workbench " + " ".join(j.command)] for j in jobs],
                    ["id", "trigger", "next run (UTC)", "command"]))
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
def run(for_seconds: Annotated[Optional[float], typer.Option(help="Stop after N seconds (default: run until Ctrl-C).")] = None) -> None:
    """Run the scheduler in the foreground: each job runs the workbench CLI as a subprocess."""
    from ..checks import list_jobs, run_scheduler
    from ._output import echo, get_project

    project = get_project()
    echo(f"scheduler running with {len(list_jobs(project))} job(s); Ctrl-C to stop")
    run_scheduler(project, for_seconds=for_seconds, on_event=echo)
    echo("scheduler stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
