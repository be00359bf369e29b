"""Escalations (督办): a row per escalation of a late task, to its department's
admin or to the operator, for the lists of open escalations; and an index on
the tasks by state and due date, for the sweep that finds late tasks.

Cases open at the upgrade have no escalation yet: the next sweep raises what
is due (a task already several working days late goes to both levels at once).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_escalations_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("escalation_id", name=op.f("pk_escalations")),
        sa.UniqueConstraint(
            "application_id",
            "step_id",
            "department_code",
            "level",
            name=op.f("uq_escalations_application_id_step_id_department_code_level"),
        ),
    )
    op.create_index(
        "ix_escalations_department_open",
        "escalations",
        ["department_code", "resolved_at", "raised_at"],
    )
    op.create_index(
        "ix_escalations_level_open", "escalations", ["level", "resolved_at", "raised_at"]
    )
    op.create_index("ix_tasks_state_due", "tasks", ["state", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_tasks_state_due", table_name="tasks")
    op.drop_index("ix_escalations_level_open", table_name="escalations")
    op.drop_index("ix_escalations_department_open", table_name="escalations")
    op.drop_table("escalations")
