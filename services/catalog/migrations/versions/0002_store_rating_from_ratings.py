"""A store's rating as ratings announces it: the store keeps the figures of
``ratings.store_rating_changed`` (reviews, praise rate, average grade) and
when ratings recorded them, instead of counting the grades of
``review_submitted`` itself (which never learnt of a review an upheld appeal
excluded).

The rates of a store already rated are worked out from its counts (rounded
half up, as ratings rounds them) and shown until ratings announces the store's
next change, whose figures then replace them. Down again, the counts come back
from the rates, as near as the rates tell them: the praises exactly below
10,000 reviews (a rate of 4 places), the grade sum below 100 (an average of 2).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Places of the praise rate (0.6667) and of the average grade (4.25).
SHARE_PLACES = 4
AVERAGE_PLACES = 2

STORES = sa.table(
    "stores",
    sa.column("store_id", sa.String),
    sa.column("reviews", sa.Integer),
    sa.column("praise_count", sa.Integer),
    sa.column("grade_sum", sa.Integer),
    sa.column("praise_rate", sa.Float),
    sa.column("average_grade", sa.Float),
)


def _half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator rounded half up, in integers (as ratings does)."""
    scale = 10**places
    return ((2 * numerator * scale + denominator) // (2 * denominator)) / scale


def upgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("praise_rate", sa.Float(), nullable=True))
        batch.add_column(sa.Column("average_grade", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rating_as_of", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    rated = bind.execute(
        sa.select(
            STORES.c.store_id, STORES.c.reviews, STORES.c.praise_count, STORES.c.grade_sum
        ).where(STORES.c.reviews > 0)
    ).all()
    for store_id, reviews, praise_count, grade_sum in rated:
        bind.execute(
            STORES.update()
            .where(STORES.c.store_id == store_id)
            .values(
                praise_rate=_half_up(praise_count, reviews, SHARE_PLACES),
                average_grade=_half_up(grade_sum, reviews, AVERAGE_PLACES),
            )
        )
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("praise_count")
        batch.drop_column("grade_sum")


def downgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.add_column(
            sa.Column("praise_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("grade_sum", sa.Integer(), server_default="0", nullable=False))
    bind = op.get_bind()
    rated = bind.execute(
        sa.select(
            STORES.c.store_id, STORES.c.reviews, STORES.c.praise_rate, STORES.c.average_grade
        ).where(STORES.c.reviews > 0)
    ).all()
    for store_id, reviews, praise_rate, average_grade in rated:
        bind.execute(
            STORES.update()
            .where(STORES.c.store_id == store_id)
            .values(
                praise_count=round((praise_rate or 0) * reviews),
                grade_sum=round((average_grade or 0) * reviews),
            )
        )
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("rating_as_of")
        batch.drop_column("average_grade")
        batch.drop_column("praise_rate")
