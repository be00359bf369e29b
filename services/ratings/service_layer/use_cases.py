"""Ratings use cases: one function per command or query, each one transaction.

Each takes the unit of work first, then keyword arguments as the contract loads
them. Errors are the domain's (``services.ratings.domain.exceptions``), each one
of the shared error types.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

import sqlalchemy as sa

from services.common import clock
from services.common.errors import Invalid
from services.ratings.adapters.repository import AppealView
from services.ratings.domain.exceptions import (
    AlreadyReviewed,
    AppealPending,
    CaseNotCompleted,
    NotPermitted,
    TokenUsed,
    UnknownAppeal,
    UnknownReview,
    UnknownVisitToken,
)
from services.ratings.domain.model import (
    MAX_GRADE,
    MIN_GRADE,
    Appeal,
    EvaluationPolicy,
    Review,
    ReviewableCase,
    Visit,
    appeal_scope,
    hash_token,
    is_evaluable,
    may_decide_appeal,
    may_record_visit,
    review_scope,
)
from services.ratings.service_layer import indicators, rectifications

CONSUMER_APPLICATION_ENDED = "ratings.on_application_ended"
CONSUMER_CASE_ESCALATED = "ratings.on_case_escalated"


def _offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def _require_envelope_id(envelope: dict) -> None:
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise Invalid("not an event envelope", {"id": "is required"})


def _record_case(uow, envelope: dict, consumer: str, case: ReviewableCase) -> bool:
    """Record ``case`` once per event: a case already recorded only learns
    what it lacked (one recorded from workflow's ``application_completed``, as
    ratings did before, learns its principal)."""
    try:
        return _record_case_once(uow, envelope, consumer, case)
    except sa.exc.IntegrityError:
        # Another delivery inserted first what this one found missing: the
        # same event's handled record (again, this one sees it and skips) or,
        # while a replica of the older version runs, the case it recorded from
        # application_completed (again, this one finds it and learns from it).
        return _record_case_once(uow, envelope, consumer, case)


def _record_case_once(uow, envelope: dict, consumer: str, case: ReviewableCase) -> bool:
    with uow:
        if not uow.first_delivery(envelope, consumer):
            return False
        recorded = _keep_case(uow, case)
        uow.commit()
    return recorded


def _keep_case(uow, case: ReviewableCase) -> bool:
    """In the caller's transaction: ``case`` reviewable, or what it knows
    learnt by the case recorded before; True when it was new."""
    recorded = uow.cases.get(case.application_id, for_update=True)
    if recorded is None:
        uow.cases.add(case)
    elif recorded.learn(case):
        uow.cases.save(recorded)
    return recorded is None


def record_application_ended(uow, envelope: dict) -> tuple[bool, bool]:
    """Workflow's ``application_ended`` (its envelope with the payload loaded)
    in both read models, in one transaction: the case becomes reviewable when
    it ended completed, denied or rejected (``record_ended_case``), and its
    outcome counts in the live case data (``indicators.record_case_ended``).

    Each once per event, by its own handled record: a delivery again does
    only what is left. Both are checked before either is recorded, so an
    event either fails as a whole (Invalid) or is recorded as a whole.
    Returns (made reviewable, counted)."""
    _require_envelope_id(envelope)
    payload = envelope["payload"]
    case = (
        ReviewableCase.from_application_ended(payload)
        if is_evaluable(payload.get("outcome"))
        else None
    )
    count_ended = indicators.case_ended(uow, envelope)
    try:
        return _record_application_ended(uow, envelope, case, count_ended)
    except sa.exc.IntegrityError:
        # As in _record_case: a racing delivery, or a replica of the older
        # version, inserted first what this one found missing.
        return _record_application_ended(uow, envelope, case, count_ended)


def _record_application_ended(
    uow, envelope: dict, case: ReviewableCase | None, count_ended: Callable[[], None]
) -> tuple[bool, bool]:
    counter = indicators.CONSUMERS["application_ended"]
    kept: list[bool] = []

    def both() -> None:
        kept.append(case is not None and _keep_case(uow, case))
        count_ended()

    # The usual delivery: the first for both read models, recorded with the
    # case's first statement (uow.once).
    if uow.once(envelope, (CONSUMER_APPLICATION_ENDED, counter), both):
        return kept[0], True
    # Taken before, by both or by one alone (a replica of the older version
    # had a handler for each): what is left.
    with uow:
        first = uow.first_deliveries(envelope, (CONSUMER_APPLICATION_ENDED, counter))
        if not first:
            return False, False
        reviewable = (
            case is not None and CONSUMER_APPLICATION_ENDED in first and _keep_case(uow, case)
        )
        if counter in first:
            count_ended()
        uow.commit()
    return reviewable, counter in first


def record_ended_case(uow, envelope: dict) -> bool:
    """Make an ended application reviewable (workflow's ``application_ended``,
    its envelope with the payload loaded) when it ended completed, denied or
    rejected; a withdrawn case, or one ended for want of a supplement, is not
    evaluable and is only marked handled.

    Once per event: a repeated delivery changes nothing. Returns True when the
    case was recorded. Raises Invalid when the envelope has no id or the
    payload lacks what a review needs.
    """
    _require_envelope_id(envelope)
    payload = envelope["payload"]
    if not is_evaluable(payload.get("outcome")):
        with uow:
            uow.first_delivery(envelope, CONSUMER_APPLICATION_ENDED)
            uow.commit()
        return False
    case = ReviewableCase.from_application_ended(payload)
    return _record_case(uow, envelope, CONSUMER_APPLICATION_ENDED, case)


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


def _policy(policy: EvaluationPolicy | None) -> EvaluationPolicy:
    return policy if policy is not None else EvaluationPolicy()


def _flag_if_bad(uow, review: Review, now: datetime) -> None:
    """A bad review (grade 1 or 2) opens a rectification for the department
    that answers for it, due by the next working day of the province's
    calendar; the review records ``bad_review_flagged``."""
    if not review.is_bad:
        return
    rectification = review.open_rectification(now, rectifications.rectification_calendar(uow, now))
    uow.rectifications.add(rectification)


def submit_review(
    uow,
    actor: dict,
    application_id: str,
    grade: int,
    comment: str | None = None,
    channel: str = "web",
    indicators: dict | None = None,
    now: datetime | None = None,
    policy: EvaluationPolicy | None = None,
) -> Review:
    """The applicant, or whom the case was for, reviews an ended case once,
    within the review window (``policy.review_window_days``).

    Emits ``review_submitted`` and, for grade 1 or 2, opens a rectification for
    the department that handled the case and emits ``bad_review_flagged``.
    Raises CaseNotCompleted when ratings has not heard that the case ended,
    AlreadyReviewed, ReviewWindowClosed (all Conflicts), NotPermitted unless
    the actor may review it, ValidationFailed for a bad grade, comment, channel
    or sub-grade (``indicators.<name>``).
    """
    now = now or clock.now()
    window_days = _policy(policy).review_window_days
    with uow:
        case = uow.cases.get(application_id, for_update=True)
        if case is None:
            raise CaseNotCompleted()
        review = case.review(
            actor,
            grade,
            comment,
            now,
            channel=channel,
            indicators=indicators,
            window_days=window_days,
        )
        try:
            # The review's row may go with a later statement (ReviewRepository.add).
            uow.reviews.add(review)
            _flag_if_bad(uow, review, now)
            uow.cases.save(case)
            uow.collect(case, review)
            uow.commit()
        except sa.exc.IntegrityError as exc:
            # Two reviews of one case raced past the check (SQLite takes no row
            # lock); the unique review per application stopped the second.
            raise AlreadyReviewed() from exc
    return review


def list_store_reviews(uow, store_id: str, page: int, page_size: int) -> dict:
    """One page of a flagship store's public board, newest first, with its
    summary: reviews of cases and of visits, reviewers masked, each with the
    department's reply; reviews excluded by an upheld appeal are left out.

    The summary is the store's published indicators over all time (the
    indicators read model). A store nobody has reviewed yet has no reviews and
    no rates (not a NotFound: ratings does not keep the list of stores).
    """
    with uow:
        reviews, total = uow.reviews.list_for_store(store_id, _offset(page, page_size), page_size)
        summary = indicators.store_summary(uow, store_id)
    return {
        "items": reviews,
        "page": page,
        "page_size": page_size,
        "total": total,
        "summary": summary,
    }


def count_reviews_by_grade(uow) -> dict[int, int]:
    """Reviews per grade, every grade 1..5 named (0 when none)."""
    with uow:
        counted = uow.reviews.count_by_grade()
    return {grade: counted.get(grade, 0) for grade in range(MIN_GRADE, MAX_GRADE + 1)}


# --- window visits (一次一评) -------------------------------------------------


def record_visit(
    uow,
    items: Callable[[str], Mapping],
    actor: dict,
    item_id: str,
    phone: str | None = None,
    now: datetime | None = None,
    *,
    portal_url: str,
    policy: EvaluationPolicy | None = None,
) -> dict:
    """A window clerk records that a citizen was served for ``item_id``; the
    answer gives the visit's one-time rating token for the window's terminal.

    ``items`` looks the item up in the catalogue (its guide; NotFound for an
    unknown item). With ``phone``, an SMS with the rating link
    (``portal_url``/rate?token=…) is queued for it in the same transaction
    (message id: the visit id); the phone is kept masked only. Emits
    ``visit_recorded``. Raises NotPermitted unless the actor is a window clerk,
    ValidationFailed (phone), ItemNotRateable (a Conflict: the item is not
    published or has no flagship store).

    Returns ``{visit_id, token, expires_at}``.
    """
    if not may_record_visit(actor):
        raise NotPermitted("only a window clerk may record a visit")
    now = now or clock.now()
    item = items(item_id)
    visit, token = Visit.record(actor, item, phone, now, _policy(policy).visit_token_days)
    with uow:
        uow.visits.add(visit)
        if phone is not None:
            uow.sms.queue(
                message_id=visit.visit_id,
                phone=phone,
                text=visit.invitation(token, portal_url),
                now=now,
            )
        uow.collect(visit)
        uow.commit()
    return {"visit_id": visit.visit_id, "token": token, "expires_at": visit.expires_at}


def review_visit(
    uow,
    token: str,
    grade: int,
    comment: str | None = None,
    channel: str = "window",
    indicators: dict | None = None,
    now: datetime | None = None,
) -> Review:
    """The citizen rates a window visit with its token, anonymously, once.

    Emits ``review_submitted`` and, for grade 1 or 2, opens a rectification for
    the visit's department and emits ``bad_review_flagged``. Raises
    UnknownVisitToken (a NotFound naming ``token``), TokenUsed, TokenExpired
    (Conflicts), ValidationFailed for a bad grade, comment, channel (window or
    sms) or on-site sub-grade (``indicators.<name>``).
    """
    now = now or clock.now()
    token_hash = hash_token(token) if isinstance(token, str) else None
    with uow:
        visit = None if token_hash is None else uow.visits.by_token_hash(token_hash, True)
        if visit is None:
            raise UnknownVisitToken()
        review = visit.review(grade, comment, now, channel=channel, indicators=indicators)
        try:
            # The review's row may go with a later statement (ReviewRepository.add).
            uow.reviews.add(review)
            _flag_if_bad(uow, review, now)
            uow.visits.save(visit)
            uow.collect(visit, review)
            uow.commit()
        except sa.exc.IntegrityError as exc:
            # Two reviews with one token raced past the check; the unique
            # review per visit stopped the second.
            raise TokenUsed() from exc
    return review


# --- the department's side: reviews, replies, appeals -------------------------


def _page_of(items: list, total: int, page: int, page_size: int) -> dict:
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def list_reviews(
    uow,
    actor: dict,
    page: int,
    page_size: int,
    department: str | None = None,
    appealed: bool | None = None,
) -> dict:
    """One page of reviews for staff, newest first, excluded ones included:
    staff (dept_admin or window_clerk) see those their department answers for,
    an operator all (or ``department``'s); ``appealed`` narrows to reviews with
    an appeal (true) or without one (false). Raises NotPermitted for anyone
    else, and for staff naming another department.
    """
    handled_by = review_scope(actor, department)
    with uow:
        reviews, total = uow.reviews.list_handled(
            handled_by, appealed, _offset(page, page_size), page_size
        )
    return _page_of(reviews, total, page, page_size)


def reply_to_review(
    uow, actor: dict, review_id: str, reply: str, now: datetime | None = None
) -> Review:
    """The department's public reply to a review, once; shown under it on the
    board. Emits ``review_replied``. Raises UnknownReview (a NotFound),
    NotPermitted unless the actor is an operator or staff (dept_admin or
    window_clerk) of the department that handled it, AlreadyReplied (a
    Conflict), ValidationFailed (reply: 1..500 characters).
    """
    now = now or clock.now()
    with uow:
        review = uow.reviews.get(review_id, for_update=True)
        if review is None:
            raise UnknownReview()
        review.answer(actor, reply, now)
        uow.reviews.save(review)
        uow.collect(review)
        uow.commit()
    return review


def file_appeal(
    uow, actor: dict, review_id: str, reason: str, now: datetime | None = None
) -> Appeal:
    """The admin of the department that handled a review appeals it to the
    operator (申诉), once per review. Emits ``appeal_filed``. Raises
    UnknownReview (a NotFound), NotPermitted, AppealPending or
    AppealAlreadyDecided (Conflicts), ValidationFailed (reason: 1..500
    characters).
    """
    now = now or clock.now()
    with uow:
        review = uow.reviews.get(review_id, for_update=True)
        if review is None:
            raise UnknownReview()
        appeal = review.appeal(actor, reason, now)
        uow.appeals.add(appeal)
        uow.reviews.save(review)
        uow.collect(appeal, review)
        try:
            uow.commit()
        except sa.exc.IntegrityError as exc:
            # Two appeals of one review raced past the check; the one appeal
            # per review stopped the second.
            raise AppealPending() from exc
    return appeal


def decide_appeal(
    uow,
    actor: dict,
    appeal_id: str,
    uphold: bool,
    comment: str,
    now: datetime | None = None,
) -> AppealView:
    """The operator decides an appeal (复核). Upheld: the review is excluded
    from every rate and from the public board (kept in the record), and its
    rectification, if still open, closes (outcome ``appeal_upheld``). Emits
    ``appeal_decided`` (and ``rectification_closed``).

    Raises NotPermitted unless the actor is an operator, UnknownAppeal (a
    NotFound), InvalidTransition (a Conflict) unless it is pending,
    ValidationFailed (uphold, comment). Returns the appeal with its review.
    """
    if not may_decide_appeal(actor):
        raise NotPermitted("only an operator decides appeals")
    now = now or clock.now()
    with uow:
        appeal = uow.appeals.get(appeal_id, for_update=True)
        if appeal is None:
            raise UnknownAppeal()
        appeal.decide(actor, uphold, comment, now)
        review = uow.reviews.get(appeal.review_id, for_update=True)
        review.settle(appeal)
        uow.appeals.save(appeal)
        uow.reviews.save(review)
        uow.collect(appeal, review)
        if appeal.upheld:
            rectifications.close_for_appeal(uow, review.review_id, now)
        uow.commit()
    return AppealView(appeal, review)


def list_appeals(uow, actor: dict, page: int, page_size: int, state: str | None = None) -> dict:
    """One page of appeals with their reviews: an operator's all, a department
    admin's their department's; pending first (oldest first), then decided
    (latest first); ``state`` narrows to pending, upheld or rejected. Raises
    NotPermitted for anyone else.
    """
    department = appeal_scope(actor)
    with uow:
        views, total = uow.appeals.list(department, state, _offset(page, page_size), page_size)
    return _page_of(views, total, page, page_size)
