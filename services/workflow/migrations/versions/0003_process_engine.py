"""Processes as data: versioned process definitions per item, each case's pinned
definition and progress (steps, tasks, clock), its legal due date, a tasks table
for worklists, and the working calendar stored per year.

Cases opened before keep running: their progress is left empty and read as the
default process (accept, then the reviewing departments' approvals), and their
department reviews become tasks of that process. The calendar's stored days
become per-year calendars.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A legacy review's decision as the state of its task; an undecided review by
# the state of its case: open work while the case is accepted, not reached
# before the window accepted it, closed once the case ended without it (as
# the repository reads the case, see repository._legacy_progress).
DECIDED = {"approved": "done", "denied": "denied"}
UNDECIDED = {"accepted": "active", "submitted": "pending", "supplement_requested": "pending"}
TASK_COLUMNS = ("application_id", "step_id", "position", "department_code", "role", "state", "due_date")


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("legal_due_date", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("process_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("process", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column(
                "calendar_provisional", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("timeline_entries") as batch:
        batch.add_column(sa.Column("step", sa.String(length=32), nullable=True))

    op.create_table(
        "tasks",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_tasks_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", "step_id", "position", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_department", "tasks", ["department_code", "state", "due_date"])

    op.create_table(
        "process_definitions",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "version", name=op.f("pk_process_definitions")),
    )

    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )

    bind = op.get_bind()
    _reviews_to_tasks(bind)
    _days_to_years(bind)
    op.drop_index("ix_department_reviews_department", table_name="department_reviews")
    op.drop_table("department_reviews")
    op.drop_table("calendar_days")


def _reviews_to_tasks(bind) -> None:
    """Cases' department reviews as the approval tasks of the default process:
    "approve" when only the owning department reviews, else the branches of
    "joint", in the reviews' order; and the window's open task of each case it
    has not accepted yet."""
    reviews = bind.execute(
        sa.text(
            "SELECT r.application_id, r.department_code, r.position, r.decision, a.due_date,"
            " a.state,"
            " (SELECT count(*) FROM department_reviews o"
            "  WHERE o.application_id = r.application_id) AS reviewers"
            " FROM department_reviews r JOIN applications a"
            " ON a.application_id = r.application_id"
        )
    ).mappings()
    rows = [
        {
            "application_id": review["application_id"],
            "step_id": "approve" if review["reviewers"] == 1 else "joint",
            "position": review["position"] if review["reviewers"] > 1 else 0,
            "department_code": review["department_code"],
            "role": "approver",
            "state": DECIDED.get(review["decision"])
            or UNDECIDED.get(review["state"], "closed"),
            "due_date": review["due_date"],
        }
        for review in reviews
    ]
    waiting = bind.execute(
        sa.text(
            "SELECT application_id, department_code, due_date FROM applications"
            " WHERE state IN ('submitted', 'supplement_requested')"
        )
    ).mappings()
    rows += [
        {
            "application_id": case["application_id"],
            "step_id": "accept",
            "position": 0,
            "department_code": case["department_code"],
            "role": "window_clerk",
            "state": "active",
            "due_date": case["due_date"],
        }
        for case in waiting
    ]
    if rows:
        tasks = sa.table("tasks", *(sa.column(name) for name in TASK_COLUMNS))
        bind.execute(tasks.insert(), rows)


def _days_to_years(bind) -> None:
    days = bind.execute(sa.text("SELECT day, kind FROM calendar_days")).mappings().all()
    years: dict[int, dict[str, list[str]]] = {}
    for row in days:
        day = row["day"] if isinstance(row["day"], dt.date) else dt.date.fromisoformat(row["day"])
        kinds = years.setdefault(day.year, {"holiday": [], "workday": []})
        kinds[row["kind"]].append(day.isoformat())
    if not years:
        return
    table = sa.table(
        "calendar_years",
        sa.column("year"),
        sa.column("holidays", sa.JSON),
        sa.column("workdays", sa.JSON),
        sa.column("source"),
        sa.column("updated_by"),
        sa.column("updated_at"),
    )
    now = dt.datetime.now(dt.UTC)
    bind.execute(
        table.insert(),
        [
            {
                "year": year,
                "holidays": sorted(kinds["holiday"]),
                "workdays": sorted(kinds["workday"]),
                "source": "stored day by day before calendars were kept per year",
                "updated_by": None,
                "updated_at": now,
            }
            for year, kinds in sorted(years.items())
        ],
    )


def downgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_days_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "department_reviews",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_department_reviews_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint(
            "application_id", "department_code", name=op.f("pk_department_reviews")
        ),
    )
    op.create_index("ix_department_reviews_department", "department_reviews", ["department_code"])
    op.drop_table("calendar_years")
    op.drop_table("process_definitions")
    op.drop_index("ix_tasks_department", table_name="tasks")
    op.drop_table("tasks")
    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_column("step")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("calendar_provisional")
        batch.drop_column("progress")
        batch.drop_column("process")
        batch.drop_column("process_version")
        batch.drop_column("legal_due_date")
