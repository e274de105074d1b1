"""Sign-offs: a named reviewer's decision on a report (approve, reject, probe more).

Each row names the report, the reviewer, the decision and comment, the signatures the
decision covers (the report's and each compared run's) and the run ids it is about, so a
model card can carry the sign-off of the runs it describes.

Revision ID: 0003_signoffs
Revises: 0002_schedule_job_ref
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_signoffs"
down_revision = "0002_schedule_job_ref"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_signoffs_report_id", "signoffs", ["report_id"])


def downgrade() -> None:
    op.drop_table("signoffs")
