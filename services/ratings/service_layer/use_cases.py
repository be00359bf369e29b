"""Ratings use cases: one function per command or query, each one transaction.

Each takes the unit of work first, then keyword arguments as the contract loads
them. Errors are the domain's (``services.ratings.domain.exceptions``), each one
of the shared error types.
"""

from datetime import datetime

import sqlalchemy as sa

from services.common.errors import Invalid
from services.common.messaging.envelope import utcnow
from services.ratings.domain.exceptions import (
    AlreadyReviewed,
    CaseNotCompleted,
    NotPermitted,
    UnknownRectification,
)
from services.ratings.domain.model import (
    MAX_GRADE,
    MIN_GRADE,
    EscalationCounts,
    RatingSummary,
    Rectification,
    Review,
    ReviewableCase,
)

CONSUMER_APPLICATION_COMPLETED = "ratings.on_application_completed"
CONSUMER_CASE_ESCALATED = "ratings.on_case_escalated"


def _offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def record_completed_case(uow, envelope: dict) -> bool:
    """Make a completed application reviewable (workflow's ``application_completed``,
    its envelope with the payload loaded).

    Once per event: a repeated delivery changes nothing, and so does a second
    event for a case already recorded. Returns True when the case was recorded.
    Raises Invalid when the envelope has no id (it could not be handled once)
    or the payload lacks what a review needs.
    """
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise Invalid("not an event envelope", {"id": "is required"})
    with uow:
        if not uow.first_delivery(envelope, CONSUMER_APPLICATION_COMPLETED):
            return False
        case = ReviewableCase.from_application_completed(envelope["payload"])
        recorded = uow.cases.get(case.application_id) is None
        if recorded:
            uow.cases.add(case)
        uow.commit()
    return recorded


def record_escalation(uow, envelope: dict) -> bool:
    """Count an escalation of late work (workflow's ``case_escalated``, its
    envelope with the payload loaded) for its department and level.

    Once per event: a repeated delivery counts nothing. Returns True when it
    was counted; raises Invalid when the envelope has no id.
    """
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise Invalid("not an event envelope", {"id": "is required"})
    payload = envelope["payload"]
    with uow:
        if not uow.first_delivery(envelope, CONSUMER_CASE_ESCALATED):
            return False
        uow.escalations.add(payload["department_code"], payload["level"])
        uow.commit()
    return True


def submit_review(
    uow,
    actor: dict,
    application_id: str,
    grade: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> Review:
    """The applicant reviews a completed case, once.

    Emits ``review_submitted`` and, for grade 1 or 2, opens a rectification and
    emits ``bad_review_flagged``; counts the grade in the rating totals. Raises
    CaseNotCompleted when ratings has not heard that the case was completed,
    AlreadyReviewed (both Conflicts), NotPermitted unless the actor is the
    applicant, ValidationFailed for a bad grade or comment.
    """
    with uow:
        case = uow.cases.get(application_id, for_update=True)
        if case is None:
            raise CaseNotCompleted()
        review = case.review(actor, grade, comment, now or utcnow())
        uow.reviews.add(review)
        if review.rectification is not None:
            uow.rectifications.add(review.rectification)
        uow.totals.add(review)
        uow.cases.save(case)
        uow.collect(case)
        try:
            uow.commit()
        except sa.exc.IntegrityError as exc:
            # Two reviews of one case raced past the check (SQLite takes no row
            # lock); the unique review per application stopped the second.
            raise AlreadyReviewed() from exc
    return review


def list_store_reviews(uow, store_id: str, page: int, page_size: int) -> dict:
    """One page of a flagship store's reviews, newest first, with its summary.

    A store nobody has reviewed yet has no reviews and no rates (not a NotFound:
    ratings does not keep the list of stores).
    """
    with uow:
        reviews, total = uow.reviews.list_for_store(store_id, _offset(page, page_size), page_size)
        summary = uow.totals.summary(store_id=store_id)
    return {
        "items": reviews,
        "page": page,
        "page_size": page_size,
        "total": total,
        "summary": summary,
    }


def stats(uow, department: str | None = None, region: str | None = None) -> dict:
    """Praise rates overall and per store, department, item and region, and
    how often late work was escalated overall and per department.

    ``department`` and ``region`` narrow every figure to reviews of cases of that
    department and of items sitting in that region (by exact region code: a
    city's figure does not include its counties, as in the catalogue's stats).
    ``department`` narrows the escalations too. An escalation names no region:
    with ``region`` the escalation counts are null (not 0), and the departments
    listed are those with reviews there; without it every department with a
    review or an escalation is listed.
    """
    where = {}
    if department is not None:
        where["department_code"] = department
    if region is not None:
        where["region_code"] = region
    with uow:
        result = {
            "department": department,
            "region": region,
            "overall": uow.totals.summary(**where),
        }
        for grouping in ("stores", "departments", "items", "regions"):
            result[grouping] = [
                {**labels, "rating": summary}
                for labels, summary in uow.totals.grouped(grouping, **where)
            ]
        escalated = None if region is not None else uow.escalations.by_department(department)
    if escalated is None:
        result["escalations"] = None
        for entry in result["departments"]:
            entry["escalations"] = None
        return result
    rated = {entry["department_code"]: entry for entry in result["departments"]}
    result["departments"] = [
        {
            "department_code": code,
            "rating": rated[code]["rating"] if code in rated else RatingSummary(),
            "escalations": escalated.get(code, EscalationCounts()),
        }
        for code in sorted(set(rated) | set(escalated))
    ]
    result["escalations"] = sum(escalated.values(), EscalationCounts())
    return result


def rectification_scope(actor: dict) -> str | None:
    """The department whose rectifications the actor sees; None for all of them
    (an operator). Raises NotPermitted for anyone else: citizens, staff without
    a department."""
    actor = actor if isinstance(actor, dict) else {}
    if not actor.get("user_id"):
        raise NotPermitted("only department staff or an operator may see rectifications")
    if actor.get("kind") == "operator":
        return None
    if actor.get("kind") == "staff" and actor.get("department_code"):
        return actor["department_code"]
    raise NotPermitted("only department staff or an operator may see rectifications")


def list_rectifications(
    uow, actor: dict, page: int, page_size: int, now: datetime | None = None
) -> dict:
    """One page of rectifications: staff see their department's, an operator all.

    Open ones first, earliest due first; each with the review that opened it and
    whether it is overdue.
    """
    department = rectification_scope(actor)
    now = now or utcnow()
    with uow:
        views, total = uow.rectifications.list(department, _offset(page, page_size), page_size)
    return {
        "items": [
            {
                "rectification": view.rectification,
                "review": view.review,
                "overdue": view.rectification.is_overdue(now),
            }
            for view in views
        ],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


def resolve_rectification(
    uow, actor: dict, rectification_id: str, comment: str, now: datetime | None = None
) -> Rectification:
    """Close a rectification with the department's answer.

    Emits ``rectification_resolved``. Raises UnknownRectification (a NotFound)
    for an unknown id, NotPermitted unless the actor is an operator or staff of
    the department with role dept_admin or window_clerk, InvalidTransition (a
    Conflict) when it is already resolved, ValidationFailed for an empty or too
    long comment.
    """
    rectification_scope(actor)
    with uow:
        rectification = uow.rectifications.get(rectification_id, for_update=True)
        if rectification is None:
            raise UnknownRectification()
        rectification.resolve(actor, comment, now or utcnow())
        uow.rectifications.save(rectification)
        uow.collect(rectification)
        uow.commit()
    return rectification


def count_reviews_by_grade(uow) -> dict[int, int]:
    """Reviews per grade, every grade 1..5 named (0 when none)."""
    with uow:
        counted = uow.reviews.count_by_grade()
    return {grade: counted.get(grade, 0) for grade in range(MIN_GRADE, MAX_GRADE + 1)}


def network_praise_rate(uow) -> float | None:
    """The praise rate of every review in the network (``RatingSummary.praise_rate``);
    None when there is no review yet."""
    with uow:
        return uow.totals.summary().praise_rate
