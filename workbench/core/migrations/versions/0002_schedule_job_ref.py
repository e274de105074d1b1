"""Scheduled jobs name their function by its public home, ``workbench.checks:run_job``.

Releases before the stage packages stored APScheduler jobs (table ``workbench_schedule``)
with the function reference ``workbench.schedule:run_job``; that module moved, so a stored
job could no longer be loaded. This revision rewrites the reference inside each pickled job
state and leaves everything else (trigger, next run time, arguments) as it was. New jobs
are stored with the public reference, which does not change when modules move.

Revision ID: 0002_schedule_job_ref
Revises: 0001_baseline
Create Date: 2026-12-01
"""

from __future__ import annotations

import pickle

import sqlalchemy as sa
from alembic import op

revision = "0002_schedule_job_ref"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

TABLE = "workbench_schedule"
OLD = "workbench.schedule:run_job"
NEW = "workbench.checks:run_job"


def _rewrite(old: str, new: str) -> None:
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    if TABLE not in inspector.get_table_names() or \
            not {"id", "job_state"} <= {c["name"] for c in inspector.get_columns(TABLE)}:
        return  # no APScheduler job store here (or someone else's table of that name)
    table = sa.table(TABLE, sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))
    for job_id, blob in conn.execute(sa.select(table.c.id, table.c.job_state)).all():
        state = pickle.loads(blob)  # our own job store's rows (APScheduler pickles them)
        if state.get("func") != old:
            continue
        state["func"] = new
        conn.execute(table.update().where(table.c.id == job_id)
                     .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def upgrade() -> None:
    _rewrite(OLD, NEW)


def downgrade() -> None:
    _rewrite(NEW, OLD)
