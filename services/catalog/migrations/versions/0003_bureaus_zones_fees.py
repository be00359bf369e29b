"""Approval bureaus, development zones with regional assessments, fees as items.

Departments get a kind (department, approval_bureau, zone_committee) and a
USCC; items the department they were taken over from (集中批), fees as a list
of items in fen (replacing the free-text line), a fee waiver rule and the
licence type they issue; zones and their regional assessments (区域评) are new.

A free-text fee becomes a list: none for an empty or free one (免费, 不收费);
otherwise one fee of the amount it names in yuan (``120元/本``: 12000 fen),
or of 0 fen when it names none, the text kept as its standard. Down again, the
list becomes a line (``护照工本费120元``; ``免费`` when empty).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_YUAN = re.compile(r"(\d+(?:\.\d{1,2})?)\s*元")
_FREE = ("", "免费", "不收费", "无")


def fee_list(text: str | None) -> list[dict]:
    """A free-text fee line as a list of fees."""
    text = (text or "").strip()
    if text in _FREE or (text.startswith("免费") and not _YUAN.search(text)):
        return []
    found = _YUAN.search(text)
    amount = int(Decimal(found.group(1)) * 100) if found else 0
    return [
        {
            "name": "收费",
            "amount_fen": amount,
            "standard": text[:500],
            "legal_basis": "",
            "waivable": False,
        }
    ]


def fee_line(fees: list[dict] | None) -> str:
    """A list of fees as one line of at most 200 characters."""
    if not fees:
        return "免费"
    parts = []
    for fee in fees:
        yuan = Decimal(fee.get("amount_fen", 0)) / 100
        parts.append(f"{fee.get('name', '')}{yuan.normalize():f}元")
    return "；".join(parts)[:200]


ITEMS = sa.table(
    "items",
    sa.column("item_id", sa.String),
    sa.column("fees", sa.String),
    sa.column("fee_list", sa.JSON),
)
ITEMS_DOWN = sa.table(
    "items",
    sa.column("item_id", sa.String),
    sa.column("fees", sa.JSON),
    sa.column("fee_line", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), server_default="department", nullable=False)
        )
        batch.add_column(sa.Column("uscc", sa.String(length=18), nullable=True))
        batch.create_unique_constraint(batch.f("uq_departments_uscc"), ["uscc"])

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("fee_list", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("fee_waiver", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("licence_type", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("transferred_from", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_items_transferred_from_departments"),
            "departments",
            ["transferred_from"],
            ["code"],
        )
    bind = op.get_bind()
    for item_id, text in bind.execute(sa.select(ITEMS.c.item_id, ITEMS.c.fees)).all():
        bind.execute(
            ITEMS.update().where(ITEMS.c.item_id == item_id).values(fee_list=fee_list(text))
        )
    with op.batch_alter_table("items") as batch:
        batch.drop_column("fees")
    with op.batch_alter_table("items") as batch:
        batch.alter_column(
            "fee_list", new_column_name="fees", existing_type=sa.JSON(), nullable=False
        )

    op.create_table(
        "zones",
        sa.Column("zone_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("committee_department_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_department_code"],
            ["departments.code"],
            name=op.f("fk_zones_committee_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_zones_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("zone_id", name=op.f("pk_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_zones_code")),
    )
    op.create_index(
        op.f("ix_zones_committee_department_code"),
        "zones",
        ["committee_department_code"],
        unique=False,
    )
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(length=32), nullable=False),
        sa.Column("zone_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zones.zone_id"], name=op.f("fk_assessments_zone_id_zones")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessments")),
    )
    op.create_index(
        op.f("ix_assessments_zone_id_kind"), "assessments", ["zone_id", "kind"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assessments_zone_id_kind"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_index(op.f("ix_zones_committee_department_code"), table_name="zones")
    op.drop_table("zones")

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("fee_line", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(ITEMS_DOWN.c.item_id, ITEMS_DOWN.c.fees)).all()
    for item_id, fees in rows:
        bind.execute(
            ITEMS_DOWN.update()
            .where(ITEMS_DOWN.c.item_id == item_id)
            .values(fee_line=fee_line(fees))
        )
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(batch.f("fk_items_transferred_from_departments"), type_="foreignkey")
        batch.drop_column("transferred_from")
        batch.drop_column("licence_type")
        batch.drop_column("fee_waiver")
        batch.drop_column("fees")
    with op.batch_alter_table("items") as batch:
        batch.alter_column(
            "fee_line", new_column_name="fees", existing_type=sa.String(length=200), nullable=False
        )

    with op.batch_alter_table("departments") as batch:
        batch.drop_constraint(batch.f("uq_departments_uscc"), type_="unique")
        batch.drop_column("uscc")
        batch.drop_column("kind")
