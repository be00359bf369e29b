"""Use cases of the read models: the published indicators (GB/T 39735) and the
live case data, fed by events, and the queries that read them.

Every handler takes the unit of work and the event's envelope (its payload
loaded with the producer's schema, or as it arrives: instants and dates may be
ISO 8601 strings), counts the event once (``uow.first_delivery``, or ``uow.once``) and returns
True when it was counted, False for a repeated delivery. An envelope without an
id is Invalid (it could not be counted once), and so is a payload missing
what the count needs (it would fail the same way on every retry). The counting
rules are in ``services.ratings.domain.indicators``.

Out of order: each event has its own queue, so a fact about a review or a case
may arrive before the review or the case. Such a fact is kept on the review's
(``indicator_reviews``) or the case's (``case_stats_cases``) row and counted
when what it needs arrives; totals are then the same in any order.

Every change to what a store's reviews rate marks its bucket due to be
announced (``rating_announcements``), in the transaction that made it;
``announce_store_ratings``, which a timer runs (LIVE_ANNOUNCE_SECONDS), records
``store_rating_changed`` (the bucket and its store's rating over all time) for
each marked bucket, for catalog's copy of the rating and the gateway's cached
boards and stats. The case data is announced by ``announce_live_case_data`` on
the same timer: it records ``case_stats_changed`` (the province's totals of
today and of all time) for the live feed when they differ from the last it
announced. Either way a burst of reviews or cases costs one event a second, not
one per fact (and the consumers of each: catalog, then the gateway twice).
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime

from services.common import clock
from services.common.errors import Invalid
from services.ratings.domain.indicators import (
    CASE_COUNTS,
    AnnouncedBucket,
    CaseCounts,
    CaseDimensions,
    IndicatorSummary,
    LiveCaseData,
    RatingBucket,
    ReviewFacts,
    check_period,
    china_day,
    ended_counts,
    evaluable,
    is_evaluable_outcome,
    store_rating_changed,
)
from services.ratings.domain.model import GRADE_MESSAGE, EscalationCounts

CONSUMER = "ratings.indicators"
# One consumer name per event type: the envelope id is unique anyway, the name
# says in handled_events which read model took it.
CONSUMERS = {
    "review_submitted": f"{CONSUMER}.review_submitted",
    "visit_recorded": f"{CONSUMER}.visit_recorded",
    "rectification_resolved": f"{CONSUMER}.rectification_resolved",
    "return_visit_recorded": f"{CONSUMER}.return_visit_recorded",
    "appeal_decided": f"{CONSUMER}.appeal_decided",
    "application_submitted": "ratings.case_stats.application_submitted",
    "application_accepted": "ratings.case_stats.application_accepted",
    "application_ended": "ratings.case_stats.application_ended",
    "case_overdue": "ratings.case_stats.case_overdue",
    "shipment_created": "ratings.case_stats.shipment_created",
}


# ---------------------------------------------------------------------------
# Reading envelopes


def _payload(envelope: Mapping) -> Mapping:
    if not isinstance(envelope, Mapping):
        raise Invalid("not an event envelope", {"id": "is required"})
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise Invalid("not an event envelope", {"id": "is required"})
    payload = envelope.get("payload")
    if not isinstance(payload, Mapping):
        raise Invalid("not an event envelope", {"payload": "is required"})
    return payload


def _instant(value, name: str) -> datetime:
    """An aware instant from a loaded payload (datetime) or one as it arrives."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise Invalid("invalid event", {name: "must be an ISO 8601 instant with a timezone"})
    return value


def _occurred_at(envelope: Mapping) -> datetime:
    """When the producer recorded the event (the envelope's ``occurred_at``)."""
    return _instant(envelope.get("occurred_at"), "occurred_at")


def _is_grade(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def _required(payload: Mapping, *names: str) -> None:
    missing = {
        f"payload.{name}": "is required"
        for name in names
        if not isinstance(payload.get(name), str) or not payload[name]
    }
    if missing:
        raise Invalid("invalid event", missing)


# ---------------------------------------------------------------------------
# Rating indicators: handlers


def _add_rating(uow, bucket: RatingBucket, change, *, rated: bool = True) -> None:
    """Add ``change`` to the bucket and, when it changed what was rated
    (``rated``: a review counted, excluded, rectified or called back; not one
    more evaluable service, which leaves the store's rating as it was), mark
    the bucket due to be announced (``announce_store_ratings``). The mark is
    made under the store's lock, which the announcer takes before it reads the
    store's rating: an announcement holds every change committed before it,
    and a change committed after it has its mark still there."""
    uow.indicators.add(bucket, change)
    if not rated:
        return
    uow.indicators.lock_store(bucket.store_id)
    uow.indicators.mark_rating_due(AnnouncedBucket.of(bucket), clock.now())


# Buckets announced per transaction of ``announce_store_ratings``.
ANNOUNCE_BATCH = 200


def announce_store_ratings(uow, limit: int = ANNOUNCE_BATCH) -> int:
    """Record ``store_rating_changed`` for each bucket due to be announced (up
    to ``limit``, the longest due first), with its store's rating now, and take
    its mark off; answers how many were announced.

    Each store's lock is taken before its rating is read and its marks taken
    off (stores in order of id, so two announcers never wait for each other
    in a circle): the rating holds every change committed before, and a change
    that commits after the rating was read marked its bucket again, so the mark
    stays (``unmark_rating`` takes off only the marks it saw) and the bucket is
    announced once more. A store's announcements follow one another under its
    lock, so the newest (by ``occurred_at``) holds every change."""
    with uow:
        due = sorted(uow.indicators.due_ratings(limit))
        if not due:
            return 0
        ratings: dict[str, IndicatorSummary] = {}
        for bucket, marks in due:
            store_id = bucket.store_id
            if store_id not in ratings:
                uow.indicators.lock_store(store_id)
                ratings[store_id] = IndicatorSummary(uow.indicators.store_counts(store_id))
            uow.indicators.unmark_rating(bucket, marks)
            uow.emit(store_rating_changed(bucket, ratings[store_id]))
        uow.commit()
    return len(due)


def _count_review_fact(uow, envelope, event_type: str, record) -> bool:
    """Apply ``record(facts) -> change`` to the review the event names, once;
    a review not submitted yet gets a row that keeps the fact for later."""
    payload = _payload(envelope)
    _required(payload, "review_id")

    def count() -> None:
        facts = uow.indicators.lock_review(payload["review_id"])
        change = record(facts)
        uow.indicators.save_review(facts)
        if facts.bucket is not None and not change.is_zero:
            _add_rating(uow, facts.bucket, change)

    return uow.once(envelope, CONSUMERS[event_type], count)


def count_review_submitted(uow, envelope: dict) -> bool:
    """Count a review (ratings' ``review_submitted``) in the bucket of the day it
    was submitted, with the facts about it that arrived before it."""
    payload = _payload(envelope)
    _required(payload, "review_id", "store_id", "department_code", "region_code", "item_id")
    bucket = RatingBucket.of(payload, _instant(payload.get("submitted_at"), "payload.submitted_at"))
    grade = payload.get("grade")
    if not _is_grade(grade):
        raise Invalid("invalid event", {"payload.grade": GRADE_MESSAGE})
    sub_grades = dict(payload.get("indicators") or {})
    bad = {
        f"payload.indicators.{name}": GRADE_MESSAGE
        for name, value in sub_grades.items()
        if not isinstance(name, str) or not _is_grade(value)
    }
    if bad:
        raise Invalid("invalid event", bad)
    return _count_review_fact(
        uow,
        envelope,
        "review_submitted",
        lambda facts: facts.record_submitted(
            bucket, grade, bool(payload.get("real_name")), sub_grades
        ),
    )


def count_rectification_resolved(uow, envelope: dict) -> bool:
    """A bad review's rectification was resolved (ratings'
    ``rectification_resolved``): counted rectified once per review, at its first
    resolution (round 1; a resolution after a reopen adds nothing)."""
    return _count_review_fact(uow, envelope, "rectification_resolved", ReviewFacts.record_rectified)


def count_return_visit(uow, envelope: dict) -> bool:
    """A return visit was recorded (ratings' ``return_visit_recorded``): the first
    that reached the reviewer counts the review called back; one that did not
    reach them counts nothing (the event is still taken once)."""
    payload = _payload(envelope)
    if not payload.get("reached"):
        with uow:
            taken = uow.first_delivery(envelope, CONSUMERS["return_visit_recorded"])
            uow.commit()
        return taken
    return _count_review_fact(
        uow, envelope, "return_visit_recorded", ReviewFacts.record_called_back
    )


def count_appeal_decided(uow, envelope: dict) -> bool:
    """An appeal was decided (ratings' ``appeal_decided``): upheld, the review
    leaves every count of its bucket, once; rejected, nothing changes."""
    payload = _payload(envelope)
    if not payload.get("upheld"):
        with uow:
            taken = uow.first_delivery(envelope, CONSUMERS["appeal_decided"])
            uow.commit()
        return taken
    return _count_review_fact(uow, envelope, "appeal_decided", ReviewFacts.record_excluded)


def count_visit_recorded(uow, envelope: dict) -> bool:
    """A window visit (ratings' ``visit_recorded``) may be rated: one evaluable
    service on the day it was recorded."""
    payload = _payload(envelope)
    _required(payload, "visit_id", "store_id", "department_code", "region_code", "item_id")
    bucket = RatingBucket.of(payload, _instant(payload.get("recorded_at"), "payload.recorded_at"))
    with uow:
        if not uow.first_delivery(envelope, CONSUMERS["visit_recorded"]):
            return False
        _add_rating(uow, bucket, evaluable(), rated=False)
        uow.commit()
    return True


# ---------------------------------------------------------------------------
# Case statistics: handlers


def _record_case_fact(
    uow, envelope, event_type: str, application_id: str, record, counted=None
) -> bool:
    """Apply ``record(case) -> changes`` to the case, once; a case not known yet
    gets a row that keeps the fact until its dimensions are known. ``counted()``,
    when given, runs in the same transaction when the fact changed the counts.
    Returns True when the event was taken (first delivery)."""
    return uow.once(
        envelope,
        CONSUMERS[event_type],
        lambda: _apply_case_fact(uow, application_id, record, counted),
    )


def _apply_case_fact(uow, application_id: str, record, counted=None) -> None:
    """``_record_case_fact``'s change, in the caller's transaction."""
    case = uow.case_stats.lock_case(application_id)
    changes = record(case)
    uow.case_stats.save_case(case)
    for bucket, counts in changes:
        uow.case_stats.add(bucket, counts)
    if changes and counted is not None:
        counted()


def announce_live_case_data(
    uow, last: Mapping | None = None, now: datetime | None = None
) -> dict | None:
    """Record ``case_stats_changed`` with the province's totals of today and
    of all time, unless they are ``last`` (what this process announced
    before); answers what was announced (``last`` when nothing was)."""
    today = china_day(now or clock.now())
    with uow:
        live = LiveCaseData(
            day=today,
            today=uow.case_stats.summary(day_from=today, day_to=today),
            all_time=uow.case_stats.summary(),
        )
        live.announce()
        payload = live.payload()
        if last is not None and payload == dict(last):
            return dict(last)
        uow.collect(live)
        uow.commit()
    return payload


def record_case_submitted(uow, envelope: dict) -> bool:
    """A case was submitted (workflow's ``application_submitted``): counted on
    the day of ``submitted_at`` (the envelope's ``occurred_at`` for an event from
    before workflow sent it) by region, department, item and delivery mode."""
    payload = _payload(envelope)
    _required(payload, "application_id", "region_code", "department_code", "item_id")
    delivery = payload.get("delivery")
    mode = delivery.get("mode") if isinstance(delivery, Mapping) else None
    if not isinstance(mode, str) or not mode:
        raise Invalid("invalid event", {"payload.delivery.mode": "is required"})
    submitted_at = payload.get("submitted_at")
    day = china_day(
        _occurred_at(envelope)
        if submitted_at is None
        else _instant(submitted_at, "payload.submitted_at")
    )
    dimensions = CaseDimensions.of(payload, mode)
    return _record_case_fact(
        uow,
        envelope,
        "application_submitted",
        payload["application_id"],
        lambda case: case.record_submitted(dimensions, day),
    )


def record_case_accepted(uow, envelope: dict) -> bool:
    """The window accepted a case (workflow's ``application_accepted``): counted
    on the day of ``accepted_at``, in the case's bucket."""
    payload = _payload(envelope)
    _required(payload, "application_id")
    day = china_day(_instant(payload.get("accepted_at"), "payload.accepted_at"))
    return _record_case_fact(
        uow,
        envelope,
        "application_accepted",
        payload["application_id"],
        lambda case: case.record_accepted(day),
    )


def record_case_overdue(uow, envelope: dict) -> bool:
    """A case passed its due date unfinished (workflow's ``case_overdue``):
    counted on the day workflow found it (the envelope's ``occurred_at``)."""
    payload = _payload(envelope)
    _required(payload, "application_id")
    day = china_day(_occurred_at(envelope))
    return _record_case_fact(
        uow,
        envelope,
        "case_overdue",
        payload["application_id"],
        lambda case: case.record_overdue(day),
    )


def record_shipment(uow, envelope: dict) -> bool:
    """An EMS shipment was booked for a case (courier's ``shipment_created``,
    materials or result): the case counts as an EMS case once, on the day its
    first shipment was booked."""
    payload = _payload(envelope)
    _required(payload, "application_id")
    day = china_day(_occurred_at(envelope))
    return _record_case_fact(
        uow,
        envelope,
        "shipment_created",
        payload["application_id"],
        lambda case: case.record_ems(day),
    )


def record_case_ended(uow, envelope: dict) -> bool:
    """A case ended (workflow's ``application_ended``): its outcome counts on
    the day it ended (a completed case also whether it was on time and its
    working days), and a case completed, denied or rejected is one more
    evaluable service in the rating indicators that day. Once per case."""
    application_id, record, counted = _case_ended(uow, envelope)
    return _record_case_fact(
        uow, envelope, "application_ended", application_id, record, counted=counted
    )


def case_ended(uow, envelope: dict) -> Callable[[], None]:
    """``record_case_ended``'s change, checked (Invalid as it raises), to be
    made in the caller's transaction once its first delivery is recorded
    (under ``CONSUMERS["application_ended"]``)."""
    application_id, record, counted = _case_ended(uow, envelope)
    return lambda: _apply_case_fact(uow, application_id, record, counted)


def _case_ended(uow, envelope: dict) -> tuple[str, Callable, Callable[[], None]]:
    payload = _payload(envelope)
    _required(
        payload,
        "application_id",
        "region_code",
        "department_code",
        "item_id",
        "store_id",
        "mode",
        "outcome",
    )
    ended_at = _instant(payload.get("ended_at"), "payload.ended_at")
    day = china_day(ended_at)
    outcome = payload["outcome"]
    on_time = bool(payload.get("on_time"))
    working_days = payload.get("working_days") or 0
    try:
        ended_counts(outcome, on_time, working_days)
    except ValueError as error:
        raise Invalid("invalid event", {"payload.outcome": str(error)}) from None
    dimensions = CaseDimensions.of(payload, payload["mode"])

    def evaluable_case() -> None:
        if is_evaluable_outcome(outcome):
            _add_rating(uow, RatingBucket.of(payload, ended_at), evaluable(), rated=False)

    return (
        payload["application_id"],
        lambda case: case.record_ended(dimensions, day, outcome, on_time, working_days),
        evaluable_case,
    )


# ---------------------------------------------------------------------------
# Queries


def _where(**filters: str | None) -> dict[str, str]:
    return {name: value for name, value in filters.items() if value is not None}


def store_summary(uow, store_id: str) -> IndicatorSummary:
    """The published indicators of one store, over all time (the public board's
    summary). Works inside the caller's transaction or opens its own."""
    if uow.session is not None:
        return IndicatorSummary(uow.indicators.summary({"store_id": store_id}))
    with uow:
        return IndicatorSummary(uow.indicators.summary({"store_id": store_id}))


def province_praise_rate(uow) -> float | None:
    """The praise rate of every review in the province (reviews excluded by an
    upheld appeal left out); None when there is none."""
    with uow:
        return IndicatorSummary(uow.indicators.summary()).praise_rate


def stats(
    uow,
    store: str | None = None,
    department: str | None = None,
    region: str | None = None,
    item: str | None = None,
    from_: date | None = None,
    to: date | None = None,
) -> dict:
    """The published indicators overall and per store, department, item and
    region, and how often late work was escalated.

    Each filter narrows every figure by exact code (a city's region does not
    include its counties, as in the catalogue's stats); ``from_`` and ``to``
    are China days, inclusive (ValidationFailed naming ``to`` when it is before
    ``from_``). Escalations (workflow's ``case_escalated``) name only a
    department and carry no day: they are given only when no filter other than
    ``department`` is; otherwise they are null (not 0). Without such a
    filter, ``departments`` lists every department with a count or an
    escalation.
    """
    check_period(from_, to)
    where = _where(store_id=store, department_code=department, region_code=region, item_id=item)
    with uow:
        result = {
            "store": store,
            "department": department,
            "region": region,
            "item": item,
            "from_": from_,
            "to": to,
            "overall": IndicatorSummary(uow.indicators.summary(where, from_, to)),
        }
        for grouping in ("stores", "departments", "items", "regions"):
            result[grouping] = [
                {**labels, "rating": IndicatorSummary(counts)}
                for labels, counts in uow.indicators.grouped(grouping, where, from_, to)
            ]
        narrowed = any(value is not None for value in (store, region, item, from_, to))
        escalated = None if narrowed else uow.escalations.by_department(department)
    if escalated is None:
        result["escalations"] = None
        for entry in result["departments"]:
            entry["escalations"] = None
        return result
    rated = {entry["department_code"]: entry for entry in result["departments"]}
    result["departments"] = [
        {
            "department_code": code,
            "rating": rated[code]["rating"] if code in rated else IndicatorSummary(),
            "escalations": escalated.get(code, EscalationCounts()),
        }
        for code in sorted(set(rated) | set(escalated))
    ]
    result["escalations"] = sum(escalated.values(), EscalationCounts())
    return result


def case_stats(
    uow,
    region: str | None = None,
    department: str | None = None,
    item: str | None = None,
    from_: date | None = None,
    to: date | None = None,
) -> dict:
    """The live case data of the cases the filters select (exact codes; China
    days ``from_``..``to``, inclusive; ValidationFailed naming ``to`` when it is
    before ``from_``): each measure, the on-time rate of completed cases, the
    submitted cases per delivery mode, the share of cases that went by EMS and
    the average working days of a completed case."""
    check_period(from_, to)
    where = _where(region_code=region, department_code=department, item_id=item)
    with uow:
        counts = uow.case_stats.summary(where, from_, to)
        by_mode = uow.case_stats.submitted_by_mode(where, from_, to)
    return {
        "region": region,
        "department": department,
        "item": item,
        "from_": from_,
        "to": to,
        **{name: getattr(counts, name) for name in CASE_COUNTS},
        "on_time_rate": counts.on_time_rate,
        "by_mode": by_mode,
        "ems_share": counts.ems_share,
        "average_working_days": counts.average_working_days,
    }


def live_case_data(uow, now: datetime | None = None) -> LiveCaseData:
    """The province's case totals of today (China day of ``now``) and of all
    time: what ``case_stats_changed`` carries, for a live feed that has none yet."""
    today = china_day(now or clock.now())
    with uow:
        return LiveCaseData(
            day=today,
            today=uow.case_stats.summary(day_from=today, day_to=today),
            all_time=uow.case_stats.summary(),
        )


def cases_today(uow, now: datetime | None = None) -> CaseCounts:
    """The province's case measures of today (China day of ``now``)."""
    today = china_day(now or clock.now())
    with uow:
        return uow.case_stats.summary(day_from=today, day_to=today)


def pending_cases(uow) -> int:
    """Cases with facts (accepted, overdue, EMS) still waiting for their
    ``application_submitted``."""
    with uow:
        return uow.case_stats.count_pending()
