"""National item elements; basic items (三级四同).

Basic items are new; items get the elements of the national standard (basic and
implementing code, type, case type, visits, online depth, the limits' unit and
note, process summary, place, hours, phone numbers, whom they serve) and a
revision. An existing item keeps null codes and type, serves nobody yet (it
must name whom it serves before it is published again) and starts at revision
1; visits is 1 when it has a window, else 0. Its legal basis, a list of lines,
becomes a list of {law, article}: "《法》第N条" splits at the closing bracket.
Down again, each reference becomes the line law + article.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CITED = re.compile(r"^(《[^》]+》(?:（[^）]*）)?)(.*)$")


def reference(line: str) -> dict:
    """One line of legal basis as {law, article}."""
    line = (line or "").strip()
    found = _CITED.match(line)
    if found is None:
        return {"law": line[:200], "article": ""}
    return {"law": found.group(1)[:200], "article": found.group(2).strip()[:100]}


def line(entry) -> str:
    """A {law, article} as one line."""
    if isinstance(entry, dict):
        return f"{entry.get('law', '')}{entry.get('article', '')}"
    return str(entry)


ITEMS = sa.table(
    "items",
    sa.column("item_id", sa.String),
    sa.column("modes", sa.JSON),
    sa.column("legal_basis", sa.JSON),
    sa.column("serves", sa.JSON),
    sa.column("visits", sa.Integer),
)


def upgrade() -> None:
    op.create_table(
        "basic_items",
        sa.Column("basic_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), server_default="", nullable=False),
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("serves", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_basic_items_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("basic_code", name=op.f("pk_basic_items")),
    )
    op.create_index(
        op.f("ix_basic_items_department_code"), "basic_items", ["department_code"], unique=False
    )

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("basic_code", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("implementing_code", sa.String(length=31), nullable=True))
        batch.add_column(sa.Column("type", sa.String(length=2), nullable=True))
        batch.add_column(
            sa.Column("case_type", sa.String(length=16), server_default="promised", nullable=False)
        )
        batch.add_column(sa.Column("visits", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("online_depth", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "limit_unit", sa.String(length=16), server_default="working_days", nullable=False
            )
        )
        batch.add_column(
            sa.Column("limit_note", sa.String(length=500), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("process_summary", sa.Text(), server_default="", nullable=False))
        batch.add_column(
            sa.Column("place", sa.String(length=300), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("hours", sa.String(length=200), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("consultation_phone", sa.String(length=50), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("complaint_phone", sa.String(length=50), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("serves", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch.create_unique_constraint(batch.f("uq_items_implementing_code"), ["implementing_code"])
        batch.create_foreign_key(
            batch.f("fk_items_basic_code_basic_items"),
            "basic_items",
            ["basic_code"],
            ["basic_code"],
        )
        batch.create_index(batch.f("ix_items_basic_code"), ["basic_code"], unique=False)

    bind = op.get_bind()
    rows = bind.execute(sa.select(ITEMS.c.item_id, ITEMS.c.modes, ITEMS.c.legal_basis)).all()
    for item_id, modes, legal_basis in rows:
        bind.execute(
            ITEMS.update()
            .where(ITEMS.c.item_id == item_id)
            .values(
                legal_basis=[
                    entry if isinstance(entry, dict) else reference(entry)
                    for entry in legal_basis or []
                ],
                serves=[],
                visits=1 if "window" in (modes or []) else 0,
            )
        )
    with op.batch_alter_table("items") as batch:
        batch.alter_column("serves", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(ITEMS.c.item_id, ITEMS.c.legal_basis)).all()
    for item_id, legal_basis in rows:
        bind.execute(
            ITEMS.update()
            .where(ITEMS.c.item_id == item_id)
            .values(legal_basis=[line(entry) for entry in legal_basis or []])
        )
    with op.batch_alter_table("items") as batch:
        batch.drop_index(batch.f("ix_items_basic_code"))
        batch.drop_constraint(batch.f("fk_items_basic_code_basic_items"), type_="foreignkey")
        batch.drop_constraint(batch.f("uq_items_implementing_code"), type_="unique")
        for column in (
            "revision",
            "serves",
            "complaint_phone",
            "consultation_phone",
            "hours",
            "place",
            "process_summary",
            "limit_note",
            "limit_unit",
            "online_depth",
            "visits",
            "case_type",
            "type",
            "implementing_code",
            "basic_code",
        ):
            batch.drop_column(column)

    op.drop_index(op.f("ix_basic_items_department_code"), table_name="basic_items")
    op.drop_table("basic_items")
