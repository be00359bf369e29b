"""Rectifications in and out of the ratings database: the ``rectifications``
row with its return visits and escalations, and the review each answers.

Instants are stored timezone-aware; SQLite hands them back naive (its column has
no zone), so every instant read is put back in UTC before the domain sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import stored_instant
from services.ratings.adapters import orm
from services.ratings.domain.rectification import (
    AWAITING_VERIFICATION,
    OPERATOR,
    RESOLVED,
    VERIFIED,
    Escalation,
    Rectification,
    ReturnVisit,
)


@dataclass(frozen=True)
class ReviewFacts:
    """What staff answering a rectification see of the review behind it."""

    grade: int
    comment: str
    item_id: str
    item_name: str
    store_id: str
    submitted_at: datetime


@dataclass(frozen=True)
class RectificationView:
    """A rectification with the review that opened it."""

    rectification: Rectification
    review: ReviewFacts


@dataclass(frozen=True)
class LateRectification:
    """An open rectification past its current due date (by the date alone: the
    working calendar decides whether it is late) that has not reached the
    operator in its round: what the escalation sweep looks at."""

    rectification_id: str
    round: int
    due: date
    escalated: frozenset[str]


class RectificationRepository:
    table = orm.rectifications
    return_visits = orm.rectification_return_visits
    escalations = orm.rectification_escalations

    def __init__(self, session: Session):
        self.session = session

    # ------------------------------------------------------------ writes

    def add(self, rectification: Rectification) -> None:
        self.session.execute(self.table.insert().values(**self._values(rectification)))
        self._add_children(rectification)

    def save(self, rectification: Rectification) -> None:
        """Store its fields, and the return visits and escalations not stored yet."""
        values = self._values(rectification)
        rectification_id = values.pop("rectification_id")
        self.session.execute(
            self.table.update()
            .where(self.table.c.rectification_id == rectification_id)
            .values(**values)
        )
        self._add_children(rectification)

    def _add_children(self, rectification: Rectification) -> None:
        rectification_id = rectification.rectification_id
        visits, escalations = self.return_visits, self.escalations
        stored_visits = set(
            self.session.execute(
                sa.select(visits.c.return_visit_id).where(
                    visits.c.rectification_id == rectification_id
                )
            ).scalars()
        )
        new_visits = [
            {
                "return_visit_id": visit.return_visit_id,
                "rectification_id": rectification_id,
                "round": visit.round,
                "reached": visit.reached,
                "satisfied": visit.satisfied,
                "comment": visit.comment,
                "recorded_by": visit.recorded_by,
                "recorded_at": visit.recorded_at,
            }
            for visit in rectification.return_visits
            if visit.return_visit_id not in stored_visits
        ]
        if new_visits:
            self.session.execute(visits.insert(), new_visits)
        stored_escalations = {
            (row.round, row.level)
            for row in self.session.execute(
                sa.select(escalations.c.round, escalations.c.level).where(
                    escalations.c.rectification_id == rectification_id
                )
            )
        }
        new_escalations = [
            {
                "rectification_id": rectification_id,
                "round": escalation.round,
                "level": escalation.level,
                "due_date": escalation.due_date,
                "escalated_at": escalation.escalated_at,
            }
            for escalation in rectification.escalations
            if (escalation.round, escalation.level) not in stored_escalations
        ]
        if new_escalations:
            self.session.execute(escalations.insert(), new_escalations)

    # ------------------------------------------------------------ reads

    def get(self, rectification_id: str, for_update: bool = False) -> Rectification | None:
        """The rectification with its return visits and escalations, or None.
        ``for_update`` locks its row (PostgreSQL) so two commands on it queue up."""
        return self._one(self.table.c.rectification_id == rectification_id, for_update)

    def for_review(self, review_id: str, for_update: bool = False) -> Rectification | None:
        """The rectification a bad review opened, or None (not a bad review)."""
        return self._one(self.table.c.review_id == review_id, for_update)

    def _one(self, where, for_update: bool) -> Rectification | None:
        statement = sa.select(self.table).where(where)
        if for_update:
            statement = statement.with_for_update()
        row = self.session.execute(statement).mappings().first()
        if row is None:
            return None
        [rectification] = self._with_children([row])
        return rectification

    def view(self, rectification_id: str) -> RectificationView | None:
        """The rectification with its review, or None."""
        views, _ = self._views(
            [self.table.c.rectification_id == rectification_id], 0, 1, count=False
        )
        return views[0] if views else None

    def list(
        self,
        department_code: str | None,
        offset: int,
        limit: int,
        state: str | None = None,
        level: str | None = None,
    ) -> tuple[list[RectificationView], int]:
        """One page and how many there are: all departments' when
        ``department_code`` is None; only ``state``'s when given; only those
        escalated to ``level`` in their current round when given.

        Open ones first: those awaiting verification or verified by their
        current due date, earliest first, then those resolved and awaiting the
        return visit; then the closed ones; newest first within each."""
        rect = self.table
        where = []
        if department_code is not None:
            where.append(rect.c.department_code == department_code)
        if state is not None:
            where.append(rect.c.state == state)
        if level is not None:
            escalations = self.escalations
            where.append(
                sa.exists().where(
                    escalations.c.rectification_id == rect.c.rectification_id,
                    escalations.c.round == rect.c.round,
                    escalations.c.level == level,
                )
            )
        return self._views(where, offset, limit)

    def _views(
        self, where: list, offset: int, limit: int, count: bool = True
    ) -> tuple[list[RectificationView], int | None]:
        """One page of views and how many match (None unless ``count``)."""
        rect, review = self.table, orm.reviews
        total = None
        if count:
            total = self.session.execute(
                sa.select(sa.func.count()).select_from(rect).where(*where)
            ).scalar_one()
        rank = sa.case(
            (rect.c.state.in_([AWAITING_VERIFICATION, VERIFIED]), 0),
            (rect.c.state == RESOLVED, 1),
            else_=2,
        )
        rows = (
            self.session.execute(
                sa.select(
                    rect,
                    review.c.grade,
                    review.c.comment.label("review_comment"),
                    review.c.item_id,
                    review.c.item_name,
                    review.c.store_id,
                    review.c.submitted_at,
                )
                .join(review, review.c.review_id == rect.c.review_id)
                .where(*where)
                .order_by(
                    rank,
                    _current_due(rect),
                    rect.c.opened_at.desc(),
                    rect.c.rectification_id,
                )
                .offset(offset)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        rectifications = self._with_children(rows)
        views = [
            RectificationView(
                rectification,
                ReviewFacts(
                    grade=row["grade"],
                    comment=row["review_comment"],
                    item_id=row["item_id"],
                    item_name=row["item_name"],
                    store_id=row["store_id"],
                    submitted_at=stored_instant(row["submitted_at"]),
                ),
            )
            for rectification, row in zip(rectifications, rows, strict=True)
        ]
        return views, total

    def late(self, today: date) -> list[LateRectification]:
        """Open rectifications whose current due date is before ``today`` and
        that have not been escalated to the operator in their round, the
        earliest due first (see ``LateRectification``)."""
        rect, escalations = self.table, self.escalations
        due = _current_due(rect)
        rows = self.session.execute(
            sa.select(rect.c.rectification_id, rect.c.round, due.label("due"))
            .where(
                sa.or_(
                    sa.and_(rect.c.state == AWAITING_VERIFICATION, rect.c.verify_due < today),
                    sa.and_(rect.c.state == VERIFIED, rect.c.due_date < today),
                ),
                ~sa.exists().where(
                    escalations.c.rectification_id == rect.c.rectification_id,
                    escalations.c.round == rect.c.round,
                    escalations.c.level == OPERATOR,
                ),
            )
            .order_by(due, rect.c.rectification_id)
        ).all()
        escalated = self._escalated([row.rectification_id for row in rows])
        return [
            LateRectification(
                rectification_id=row.rectification_id,
                round=row.round,
                due=row.due,
                escalated=frozenset(escalated.get((row.rectification_id, row.round), ())),
            )
            for row in rows
        ]

    def open_dues(self) -> list[tuple[str, date | None]]:
        """``(state, current due date)`` of every open rectification (the due
        date None for a resolved one awaiting its return visit)."""
        rect = self.table
        rows = self.session.execute(
            sa.select(rect.c.state, _current_due(rect).label("due")).where(
                rect.c.state.in_([AWAITING_VERIFICATION, VERIFIED, RESOLVED])
            )
        )
        return [(row.state, row.due) for row in rows]

    def count_by_state(self) -> dict[str, int]:
        """How many rectifications are in each state; states without one are absent."""
        state = self.table.c.state
        rows = self.session.execute(sa.select(state, sa.func.count()).group_by(state))
        return {row[0]: int(row[1]) for row in rows}

    # ------------------------------------------------------------ rows

    def _escalated(self, rectification_ids: Iterable[str]) -> dict[tuple[str, int], set[str]]:
        ids = list(rectification_ids)
        found: dict[tuple[str, int], set[str]] = {}
        if not ids:
            return found
        escalations = self.escalations
        rows = self.session.execute(
            sa.select(
                escalations.c.rectification_id, escalations.c.round, escalations.c.level
            ).where(escalations.c.rectification_id.in_(ids))
        )
        for row in rows:
            found.setdefault((row.rectification_id, row.round), set()).add(row.level)
        return found

    def _with_children(self, rows) -> list[Rectification]:
        """The rectifications of ``rows`` with their return visits and
        escalations, loaded with one query each for all of them."""
        ids = [row["rectification_id"] for row in rows]
        visits: dict[str, list[ReturnVisit]] = {rectification_id: [] for rectification_id in ids}
        escalations: dict[str, list[Escalation]] = {
            rectification_id: [] for rectification_id in ids
        }
        if ids:
            table = self.return_visits
            for row in self.session.execute(
                sa.select(table)
                .where(table.c.rectification_id.in_(ids))
                .order_by(table.c.round, table.c.recorded_at, table.c.return_visit_id)
            ).mappings():
                visits[row["rectification_id"]].append(
                    ReturnVisit(
                        return_visit_id=row["return_visit_id"],
                        round=row["round"],
                        reached=row["reached"],
                        satisfied=row["satisfied"],
                        comment=row["comment"],
                        recorded_by=row["recorded_by"],
                        recorded_at=stored_instant(row["recorded_at"]),
                    )
                )
            table = self.escalations
            for row in self.session.execute(
                sa.select(table)
                .where(table.c.rectification_id.in_(ids))
                .order_by(table.c.round, table.c.escalated_at, table.c.level)
            ).mappings():
                escalations[row["rectification_id"]].append(
                    Escalation(
                        level=row["level"],
                        round=row["round"],
                        due_date=row["due_date"],
                        escalated_at=stored_instant(row["escalated_at"]),
                    )
                )
        return [
            self._rectification(
                row, visits[row["rectification_id"]], escalations[row["rectification_id"]]
            )
            for row in rows
        ]

    @staticmethod
    def _values(rectification: Rectification) -> dict:
        return {
            "rectification_id": rectification.rectification_id,
            "review_id": rectification.review_id,
            "application_id": rectification.application_id,
            "visit_id": rectification.visit_id,
            "department_code": rectification.department_code,
            "state": rectification.state,
            "round": rectification.round,
            "opened_at": rectification.opened_at,
            "verify_due": rectification.verify_due,
            "decision": rectification.decision,
            "plan": rectification.plan,
            "working_days": rectification.working_days,
            "due_date": rectification.due_date,
            "verified_at": rectification.verified_at,
            "verified_by": rectification.verified_by,
            "resolved_at": rectification.resolved_at,
            "resolution_comment": rectification.resolution_comment,
            "resolved_by": rectification.resolved_by,
            "closed_at": rectification.closed_at,
            "outcome": rectification.outcome,
        }

    @staticmethod
    def _rectification(row, visits: list[ReturnVisit], escalations: list[Escalation]):
        return Rectification(
            rectification_id=row["rectification_id"],
            review_id=row["review_id"],
            application_id=row["application_id"],
            visit_id=row["visit_id"],
            department_code=row["department_code"],
            state=row["state"],
            round=row["round"],
            opened_at=stored_instant(row["opened_at"]),
            verify_due=row["verify_due"],
            decision=row["decision"],
            plan=row["plan"],
            working_days=row["working_days"],
            due_date=row["due_date"],
            verified_at=stored_instant(row["verified_at"]),
            verified_by=row["verified_by"],
            resolved_at=stored_instant(row["resolved_at"]),
            resolution_comment=row["resolution_comment"],
            resolved_by=row["resolved_by"],
            closed_at=stored_instant(row["closed_at"]),
            outcome=row["outcome"],
            return_visits=visits,
            escalations=escalations,
        )


def _current_due(rect: sa.Table):
    """The date a rectification's department owes its next step by (see
    ``Rectification.current_due``), as SQL; null when it owes none."""
    return sa.case(
        (rect.c.state == AWAITING_VERIFICATION, rect.c.verify_due),
        (rect.c.state == VERIFIED, rect.c.due_date),
        else_=None,
    )
