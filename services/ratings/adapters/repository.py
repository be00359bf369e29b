"""Repositories: rows of the ratings tables in, domain objects out.

Instants are stored timezone-aware; SQLite hands them back naive (its column has
no zone), so every instant read is put back in UTC before the domain sees it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ratings.adapters import orm
from services.ratings.domain.model import (
    EscalationCounts,
    RatingSummary,
    Rectification,
    Review,
    ReviewableCase,
    is_praise,
)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _page(statement, offset: int, limit: int):
    return statement.offset(offset).limit(limit)


class CaseRepository:
    """Completed cases that may be reviewed."""

    table = orm.reviewable_cases

    def __init__(self, session: Session):
        self.session = session

    def get(self, application_id: str, for_update: bool = False) -> ReviewableCase | None:
        """The case, or None. ``for_update`` locks the row (PostgreSQL) so two
        reviews of one case queue up instead of both passing the check."""
        statement = sa.select(self.table).where(self.table.c.application_id == application_id)
        if for_update:
            statement = statement.with_for_update()
        row = self.session.execute(statement).mappings().first()
        if row is None:
            return None
        return ReviewableCase(
            application_id=row["application_id"],
            applicant_id=row["applicant_id"],
            item_id=row["item_id"],
            item_name=row["item_name"],
            department_code=row["department_code"],
            region_code=row["region_code"],
            store_id=row["store_id"],
            completed_at=_utc(row["completed_at"]),
            reviewed=row["reviewed"],
        )

    def add(self, case: ReviewableCase) -> None:
        self.session.execute(
            self.table.insert().values(
                application_id=case.application_id,
                applicant_id=case.applicant_id,
                item_id=case.item_id,
                item_name=case.item_name,
                department_code=case.department_code,
                region_code=case.region_code,
                store_id=case.store_id,
                completed_at=case.completed_at,
                reviewed=case.reviewed,
            )
        )

    def save(self, case: ReviewableCase) -> None:
        self.session.execute(
            self.table.update()
            .where(self.table.c.application_id == case.application_id)
            .values(reviewed=case.reviewed)
        )

    def count(self) -> int:
        return self.session.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()


class ReviewRepository:
    table = orm.reviews

    def __init__(self, session: Session):
        self.session = session

    def add(self, review: Review) -> None:
        self.session.execute(
            self.table.insert().values(
                review_id=review.review_id,
                application_id=review.application_id,
                reviewer_id=review.reviewer_id,
                grade=review.grade,
                comment=review.comment,
                item_id=review.item_id,
                item_name=review.item_name,
                store_id=review.store_id,
                department_code=review.department_code,
                region_code=review.region_code,
                submitted_at=review.submitted_at,
            )
        )

    def get(self, review_id: str) -> Review | None:
        row = (
            self.session.execute(sa.select(self.table).where(self.table.c.review_id == review_id))
            .mappings()
            .first()
        )
        return None if row is None else self._review(row)

    def list_for_store(self, store_id: str, offset: int, limit: int) -> tuple[list[Review], int]:
        """One page of the store's reviews, newest first, and how many there are."""
        where = self.table.c.store_id == store_id
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(self.table).where(where)
        ).scalar_one()
        rows = self.session.execute(
            _page(
                sa.select(self.table)
                .where(where)
                .order_by(self.table.c.submitted_at.desc(), self.table.c.review_id),
                offset,
                limit,
            )
        ).mappings()
        return [self._review(row) for row in rows], total

    def count_by_grade(self) -> dict[int, int]:
        """How many reviews have each grade; grades without a review are absent."""
        grade = self.table.c.grade
        rows = self.session.execute(sa.select(grade, sa.func.count()).group_by(grade))
        return {int(row[0]): int(row[1]) for row in rows}

    @staticmethod
    def _review(row) -> Review:
        return Review(
            review_id=row["review_id"],
            application_id=row["application_id"],
            reviewer_id=row["reviewer_id"],
            grade=row["grade"],
            comment=row["comment"],
            item_id=row["item_id"],
            item_name=row["item_name"],
            store_id=row["store_id"],
            department_code=row["department_code"],
            region_code=row["region_code"],
            submitted_at=_utc(row["submitted_at"]),
        )


@dataclass(frozen=True)
class RectificationView:
    """A rectification with the review that opened it, for staff's list."""

    rectification: Rectification
    review: Review


class RectificationRepository:
    table = orm.rectifications

    def __init__(self, session: Session):
        self.session = session

    def add(self, rectification: Rectification) -> None:
        self.session.execute(self.table.insert().values(**self._values(rectification)))

    def save(self, rectification: Rectification) -> None:
        values = self._values(rectification)
        rectification_id = values.pop("rectification_id")
        self.session.execute(
            self.table.update()
            .where(self.table.c.rectification_id == rectification_id)
            .values(**values)
        )

    def get(self, rectification_id: str, for_update: bool = False) -> Rectification | None:
        statement = sa.select(self.table).where(self.table.c.rectification_id == rectification_id)
        if for_update:
            statement = statement.with_for_update()
        row = self.session.execute(statement).mappings().first()
        return None if row is None else self._rectification(row)

    def list(
        self, department_code: str | None, offset: int, limit: int
    ) -> tuple[list[RectificationView], int]:
        """One page, open ones first (earliest due first), then the rest, newest
        first; all departments when ``department_code`` is None."""
        rect, review = self.table, orm.reviews
        where = [] if department_code is None else [rect.c.department_code == department_code]
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(rect).where(*where)
        ).scalar_one()
        still_open = sa.case((rect.c.status == "open", 0), else_=1)
        rows = self.session.execute(
            _page(
                sa.select(rect, *[c for c in review.c if c.name not in rect.c])
                .join(review, review.c.review_id == rect.c.review_id)
                .where(*where)
                .order_by(
                    still_open,
                    sa.case((rect.c.status == "open", rect.c.due_date), else_=None),
                    rect.c.opened_at.desc(),
                    rect.c.rectification_id,
                ),
                offset,
                limit,
            )
        ).mappings()
        views = [
            RectificationView(self._rectification(row), ReviewRepository._review(row))
            for row in rows
        ]
        return views, total

    @staticmethod
    def _values(rectification: Rectification) -> dict:
        return {
            "rectification_id": rectification.rectification_id,
            "review_id": rectification.review_id,
            "application_id": rectification.application_id,
            "department_code": rectification.department_code,
            "opened_at": rectification.opened_at,
            "due_date": rectification.due_date,
            "status": rectification.status,
            "resolved_at": rectification.resolved_at,
            "resolution_comment": rectification.resolution_comment,
            "resolved_by": rectification.resolved_by,
        }

    @staticmethod
    def _rectification(row) -> Rectification:
        return Rectification(
            rectification_id=row["rectification_id"],
            review_id=row["review_id"],
            application_id=row["application_id"],
            department_code=row["department_code"],
            opened_at=_utc(row["opened_at"]),
            due_date=row["due_date"],
            status=row["status"],
            resolved_at=_utc(row["resolved_at"]),
            resolution_comment=row["resolution_comment"],
            resolved_by=row["resolved_by"],
        )


# Groupings of the stats, and the column each is keyed by.
GROUPINGS = {
    "stores": ("store_id",),
    "departments": ("department_code",),
    "regions": ("region_code",),
    "items": ("item_id",),
}


def _upsert(session: Session):
    """The dialect's INSERT that takes ON CONFLICT DO UPDATE."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two databases tongban runs on
        raise NotImplementedError(f"no upsert for {dialect}")
    return insert


class EscalationTotalsRepository:
    """How many escalations of late work each department had, per level
    (``escalation_totals``)."""

    table = orm.escalation_totals

    def __init__(self, session: Session):
        self.session = session

    def add(self, department_code: str, level: str) -> None:
        """Count one escalation, atomically, as ``RatingTotalsRepository.add``."""
        table = self.table
        statement = _upsert(self.session)(table).values(
            department_code=department_code, level=level, escalations=1
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.department_code, table.c.level],
                set_={"escalations": table.c.escalations + statement.excluded.escalations},
            )
        )

    def by_department(self, department_code: str | None = None) -> dict[str, EscalationCounts]:
        """Each department's counts (only ``department_code``'s when given), in
        code order; departments never escalated are absent."""
        table = self.table
        query = sa.select(table.c.department_code, table.c.level, table.c.escalations)
        if department_code is not None:
            query = query.where(table.c.department_code == department_code)
        counted: dict[str, dict[str, int]] = {}
        for row in self.session.execute(query.order_by(table.c.department_code)):
            counted.setdefault(row.department_code, {})[row.level] = int(row.escalations)
        return {code: EscalationCounts.of(levels) for code, levels in counted.items()}


class RatingTotalsRepository:
    """The counts behind praise rates (``rating_totals``)."""

    table = orm.rating_totals

    def __init__(self, session: Session):
        self.session = session

    def add(self, review: Review) -> None:
        """Count one review, atomically (``INSERT ... ON CONFLICT DO UPDATE``), so
        concurrent reviews of one store never lose a count."""
        table = self.table
        statement = _upsert(self.session)(table).values(
            store_id=review.store_id,
            department_code=review.department_code,
            region_code=review.region_code,
            item_id=review.item_id,
            item_name=review.item_name,
            reviews=1,
            praise=1 if is_praise(review.grade) else 0,
            grade_sum=review.grade,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[c.name for c in table.primary_key.columns],
                set_={
                    "item_name": statement.excluded.item_name,
                    "reviews": table.c.reviews + statement.excluded.reviews,
                    "praise": table.c.praise + statement.excluded.praise,
                    "grade_sum": table.c.grade_sum + statement.excluded.grade_sum,
                },
            )
        )

    def summary(self, **where: str) -> RatingSummary:
        """The summary of every review matching ``where`` (column=value)."""
        table = self.table
        row = self.session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(table.c.reviews), 0),
                sa.func.coalesce(sa.func.sum(table.c.praise), 0),
                sa.func.coalesce(sa.func.sum(table.c.grade_sum), 0),
            ).where(*[table.c[name] == value for name, value in where.items()])
        ).one()
        return RatingSummary(reviews=int(row[0]), praise=int(row[1]), grade_sum=int(row[2]))

    def grouped(self, grouping: str, **where: str) -> list[tuple[dict, RatingSummary]]:
        """Summaries per store, department, region or item (``GROUPINGS``), in key
        order, of the reviews matching ``where``."""
        table = self.table
        keys = [table.c[name] for name in GROUPINGS[grouping]]
        extra = [sa.func.max(table.c.item_name).label("item_name")] if grouping == "items" else []
        rows = self.session.execute(
            sa.select(
                *keys,
                *extra,
                sa.func.sum(table.c.reviews).label("reviews"),
                sa.func.sum(table.c.praise).label("praise"),
                sa.func.sum(table.c.grade_sum).label("grade_sum"),
            )
            .where(*[table.c[name] == value for name, value in where.items()])
            .group_by(*keys)
            .order_by(*keys)
        ).mappings()
        result = []
        for row in rows:
            labels = {column.name: row[column.name] for column in keys}
            if extra:
                labels["item_name"] = row["item_name"]
            summary = RatingSummary(
                reviews=int(row["reviews"]),
                praise=int(row["praise"]),
                grade_sum=int(row["grade_sum"]),
            )
            result.append((labels, summary))
        return result
