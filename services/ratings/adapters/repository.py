"""Repositories: rows of the ratings tables in, domain objects out.

Instants are stored timezone-aware; SQLite hands them back naive (its column has
no zone), so every instant read is put back in UTC before the domain sees it.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import (
    DEFERRED,
    insert_into,
    row_by_key,
    stored_instant,
    update_by_key,
    upsert,
)
from services.ratings.adapters import orm
from services.ratings.domain.model import (
    APPEAL_PENDING,
    Appeal,
    EscalationCounts,
    Review,
    ReviewableCase,
    Visit,
)


def _page(statement, offset: int, limit: int):
    return statement.offset(offset).limit(limit)


class CaseRepository:
    """Ended cases that may be reviewed."""

    table = orm.reviewable_cases

    def __init__(self, session: Session):
        self.session = session

    def get(self, application_id: str, for_update: bool = False) -> ReviewableCase | None:
        """The case, or None. ``for_update`` locks the row (PostgreSQL) so two
        reviews of one case queue up instead of both passing the check."""
        statement = row_by_key(self.table, "application_id", for_update)
        row = self.session.execute(statement, {"key": application_id}).mappings().first()
        if row is None:
            return None
        return ReviewableCase(
            application_id=row["application_id"],
            applicant_id=row["applicant_id"],
            principal_id=row["principal_id"],
            item_id=row["item_id"],
            item_name=row["item_name"],
            department_code=row["department_code"],
            handled_by=row["handled_by"],
            region_code=row["region_code"],
            store_id=row["store_id"],
            outcome=row["outcome"],
            ended_at=stored_instant(row["ended_at"]),
            reviewed=row["reviewed"],
        )

    def add(self, case: ReviewableCase) -> None:
        self.session.execute(
            insert_into(self.table),
            {
                "application_id": case.application_id,
                "applicant_id": case.applicant_id,
                "principal_id": case.principal_id,
                "item_id": case.item_id,
                "item_name": case.item_name,
                "department_code": case.department_code,
                "handled_by": case.handled_by,
                "region_code": case.region_code,
                "store_id": case.store_id,
                "outcome": case.outcome,
                "ended_at": case.ended_at,
                "reviewed": case.reviewed,
            },
            execution_options=DEFERRED,
        )

    def save(self, case: ReviewableCase) -> None:
        self.session.execute(
            update_by_key(self.table, "application_id"),
            {
                "where_key": case.application_id,
                "reviewed": case.reviewed,
                "principal_id": case.principal_id,
            },
            execution_options=DEFERRED,
        )

    def count(self) -> int:
        return self.session.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()


class ReviewRepository:
    table = orm.reviews

    def __init__(self, session: Session):
        self.session = session

    def add(self, review: Review) -> None:
        """Sent with the transaction's next statement or its commit
        (``db.DEFERRED``): a second review of one case or visit is refused
        there, by its unique key."""
        self.session.execute(
            insert_into(self.table),
            {
                "review_id": review.review_id,
                "application_id": review.application_id,
                "visit_id": review.visit_id,
                "reviewer_id": review.reviewer_id,
                "reviewer_name": review.reviewer_name,
                "real_name": review.real_name,
                "grade": review.grade,
                "comment": review.comment,
                "channel": review.channel,
                "indicators": dict(review.indicators),
                "item_id": review.item_id,
                "item_name": review.item_name,
                "store_id": review.store_id,
                "department_code": review.department_code,
                "handled_by": review.handled_by,
                "region_code": review.region_code,
                "submitted_at": review.submitted_at,
                **self._changing(review),
            },
            execution_options=DEFERRED,
        )

    def save(self, review: Review) -> None:
        """Store what may change on a review: its reply, its appeal, whether it
        is excluded."""
        self.session.execute(
            update_by_key(self.table, "review_id"),
            {"where_key": review.review_id, **self._changing(review)},
        )

    def get(self, review_id: str, for_update: bool = False) -> Review | None:
        """The review, or None. ``for_update`` locks the row (PostgreSQL) so a
        reply and an appeal of one review queue up."""
        statement = row_by_key(self.table, "review_id", for_update)
        row = self.session.execute(statement, {"key": review_id}).mappings().first()
        return None if row is None else self._review(row)

    def list_for_store(self, store_id: str, offset: int, limit: int) -> tuple[list[Review], int]:
        """One page of the store's public reviews (not excluded), newest first,
        and how many there are."""
        where = [self.table.c.store_id == store_id, self.table.c.excluded.is_(False)]
        return self._page(where, offset, limit)

    def list_handled(
        self,
        handled_by: str | None,
        appealed: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Review], int]:
        """One page of reviews, newest first, and how many there are: those
        ``handled_by`` answers for (all when None), appealed or not (either
        when None). Excluded ones too: staff see the whole record."""
        table = self.table
        where = []
        if handled_by is not None:
            where.append(table.c.handled_by == handled_by)
        if appealed is True:
            where.append(table.c.appeal_state.is_not(None))
        elif appealed is False:
            where.append(table.c.appeal_state.is_(None))
        return self._page(where, offset, limit)

    def count_by_grade(self) -> dict[int, int]:
        """How many reviews have each grade; grades without a review are absent."""
        grade = self.table.c.grade
        rows = self.session.execute(sa.select(grade, sa.func.count()).group_by(grade))
        return {int(row[0]): int(row[1]) for row in rows}

    def _page(self, where: list, offset: int, limit: int) -> tuple[list[Review], int]:
        table = self.table
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(table).where(*where)
        ).scalar_one()
        rows = self.session.execute(
            _page(
                sa.select(table)
                .where(*where)
                .order_by(table.c.submitted_at.desc(), table.c.review_id),
                offset,
                limit,
            )
        ).mappings()
        return [self._review(row) for row in rows], total

    @staticmethod
    def _changing(review: Review) -> dict:
        return {
            "excluded": review.excluded,
            "reply": review.reply,
            "replied_at": review.replied_at,
            "replied_by": review.replied_by,
            "appeal_state": review.appeal_state,
        }

    @staticmethod
    def _review(row) -> Review:
        return Review(
            review_id=row["review_id"],
            application_id=row["application_id"],
            visit_id=row["visit_id"],
            reviewer_id=row["reviewer_id"],
            reviewer_name=row["reviewer_name"],
            real_name=bool(row["real_name"]),
            grade=row["grade"],
            comment=row["comment"],
            channel=row["channel"],
            indicators=dict(row["indicators"] or {}),
            item_id=row["item_id"],
            item_name=row["item_name"],
            store_id=row["store_id"],
            department_code=row["department_code"],
            handled_by=row["handled_by"],
            region_code=row["region_code"],
            submitted_at=stored_instant(row["submitted_at"]),
            excluded=bool(row["excluded"]),
            reply=row["reply"],
            replied_at=stored_instant(row["replied_at"]),
            replied_by=row["replied_by"],
            appeal_state=row["appeal_state"],
        )


class VisitRepository:
    """Window visits, found by the hash of their rating token."""

    table = orm.visits

    def __init__(self, session: Session):
        self.session = session

    def add(self, visit: Visit) -> None:
        self.session.execute(
            insert_into(self.table),
            {
                "visit_id": visit.visit_id,
                "token_hash": visit.token_hash,
                "item_id": visit.item_id,
                "item_name": visit.item_name,
                "store_id": visit.store_id,
                "department_code": visit.department_code,
                "region_code": visit.region_code,
                "recorded_by": visit.recorded_by,
                "phone_masked": visit.phone_masked,
                "recorded_at": visit.recorded_at,
                "expires_at": visit.expires_at,
                "review_id": visit.review_id,
            },
        )

    def by_token_hash(self, token_hash: str, for_update: bool = False) -> Visit | None:
        """The visit whose token hashes to ``token_hash``, or None. ``for_update``
        locks the row (PostgreSQL) so two reviews with one token queue up."""
        statement = row_by_key(self.table, "token_hash", for_update)
        row = self.session.execute(statement, {"key": token_hash}).mappings().first()
        return None if row is None else self._visit(row)

    def get(self, visit_id: str) -> Visit | None:
        statement = row_by_key(self.table, "visit_id")
        row = self.session.execute(statement, {"key": visit_id}).mappings().first()
        return None if row is None else self._visit(row)

    def save(self, visit: Visit) -> None:
        self.session.execute(
            update_by_key(self.table, "visit_id"),
            {"where_key": visit.visit_id, "review_id": visit.review_id},
        )

    @staticmethod
    def _visit(row) -> Visit:
        return Visit(
            visit_id=row["visit_id"],
            token_hash=row["token_hash"],
            item_id=row["item_id"],
            item_name=row["item_name"],
            store_id=row["store_id"],
            department_code=row["department_code"],
            region_code=row["region_code"],
            recorded_by=row["recorded_by"],
            phone_masked=row["phone_masked"],
            recorded_at=stored_instant(row["recorded_at"]),
            expires_at=stored_instant(row["expires_at"]),
            review_id=row["review_id"],
        )


@dataclass(frozen=True)
class AppealView:
    """An appeal with the review it is about, for the lists."""

    appeal: Appeal
    review: Review


class AppealRepository:
    table = orm.appeals

    def __init__(self, session: Session):
        self.session = session

    def add(self, appeal: Appeal) -> None:
        self.session.execute(insert_into(self.table), self._values(appeal))

    def save(self, appeal: Appeal) -> None:
        values = self._values(appeal)
        values["where_key"] = values.pop("appeal_id")
        self.session.execute(update_by_key(self.table, "appeal_id"), values)

    def get(self, appeal_id: str, for_update: bool = False) -> Appeal | None:
        statement = row_by_key(self.table, "appeal_id", for_update)
        row = self.session.execute(statement, {"key": appeal_id}).mappings().first()
        return None if row is None else self._appeal(row)

    def view(self, appeal_id: str) -> AppealView | None:
        """The appeal with its review, or None."""
        appeal = self.get(appeal_id)
        if appeal is None:
            return None
        return AppealView(appeal, ReviewRepository(self.session).get(appeal.review_id))

    def list(
        self, department_code: str | None, state: str | None, offset: int, limit: int
    ) -> tuple[list[AppealView], int]:
        """One page of appeals with their reviews, and how many there are:
        pending ones first, oldest first (the queue to decide), then decided
        ones, latest decided first; of ``department_code`` and in ``state``
        when given."""
        appeal, review = self.table, orm.reviews
        where = []
        if department_code is not None:
            where.append(appeal.c.department_code == department_code)
        if state is not None:
            where.append(appeal.c.state == state)
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(appeal).where(*where)
        ).scalar_one()
        pending = appeal.c.state == APPEAL_PENDING
        rows = self.session.execute(
            _page(
                sa.select(
                    *[c.label(f"appeal_{c.name}") for c in appeal.c],
                    *review.c,
                )
                .join(review, review.c.review_id == appeal.c.review_id)
                .where(*where)
                .order_by(
                    sa.case((pending, 0), else_=1),
                    sa.case((pending, appeal.c.filed_at), else_=None),
                    appeal.c.decided_at.desc(),
                    appeal.c.appeal_id,
                ),
                offset,
                limit,
            )
        ).mappings()
        views = []
        for row in rows:
            appeal_row = {c.name: row[f"appeal_{c.name}"] for c in appeal.c}
            views.append(AppealView(self._appeal(appeal_row), ReviewRepository._review(row)))
        return views, total

    @staticmethod
    def _values(appeal: Appeal) -> dict:
        return {
            "appeal_id": appeal.appeal_id,
            "review_id": appeal.review_id,
            "department_code": appeal.department_code,
            "reason": appeal.reason,
            "filed_by": appeal.filed_by,
            "filed_at": appeal.filed_at,
            "state": appeal.state,
            "decided_by": appeal.decided_by,
            "decided_at": appeal.decided_at,
            "decision_comment": appeal.decision_comment,
        }

    @staticmethod
    def _appeal(row) -> Appeal:
        return Appeal(
            appeal_id=row["appeal_id"],
            review_id=row["review_id"],
            department_code=row["department_code"],
            reason=row["reason"],
            filed_by=row["filed_by"],
            filed_at=stored_instant(row["filed_at"]),
            state=row["state"],
            decided_by=row["decided_by"],
            decided_at=stored_instant(row["decided_at"]),
            decision_comment=row["decision_comment"],
        )


class EscalationTotalsRepository:
    """How many escalations of late work each department had, per level
    (``escalation_totals``)."""

    table = orm.escalation_totals

    def __init__(self, session: Session):
        self.session = session

    def add(self, department_code: str, level: str) -> None:
        """Count one escalation, atomically (``INSERT ... ON CONFLICT DO UPDATE``),
        so concurrent escalations never lose a count."""
        table = self.table
        statement = upsert(self.session)(table).values(
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
