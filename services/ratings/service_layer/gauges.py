"""Ratings figures read from its database when Prometheus scrapes."""

from collections.abc import Callable

from services.common.metrics import Reading
from services.ratings.domain.indicators import CASE_COUNTS
from services.ratings.service_layer import indicators, rectifications, use_cases
from services.ratings.service_layer.sms import count_pending as count_pending_texts
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork


def gauges(new_uow: Callable[[], RatingsUnitOfWork], service: str) -> list[Reading]:
    """Reviews per grade, the praise rate of the whole network and today's
    case data; one ratings service rates and counts every instance's cases, so
    there is no per-instance label."""

    def reviews():
        counted = use_cases.count_reviews_by_grade(new_uow())
        return [((str(grade),), count) for grade, count in counted.items()]

    def praise_rate():
        rate = indicators.province_praise_rate(new_uow())
        # No reviews is no rate, not a rate of 0.
        return [] if rate is None else [((), rate)]

    def cases_today():
        counts = indicators.cases_today(new_uow())
        return [((measure,), getattr(counts, measure)) for measure in CASE_COUNTS]

    def cases_pending():
        return [((), indicators.pending_cases(new_uow()))]

    def rectifications_by_state():
        counted = rectifications.count_rectifications_by_state(new_uow())
        return [((state,), count) for state, count in counted.items()]

    def rectifications_late():
        return [((), rectifications.count_late_rectifications(new_uow()))]

    def texts_pending():
        return [((), count_pending_texts(new_uow()))]

    return [
        Reading(
            "tongban_ratings_reviews",
            "Reviews per grade (1..5).",
            ("grade",),
            reviews,
        ),
        Reading(
            "tongban_ratings_praise_rate",
            "Share of all reviews in the province graded 4 or 5 (praise), 0..1, reviews"
            " excluded by an upheld appeal left out; absent while there are none.",
            (),
            praise_rate,
        ),
        Reading(
            "tongban_ratings_cases_today",
            "The province's cases today (China Standard Time) per measure: submitted,"
            " accepted, completed, completed_on_time, denied, rejected, not_supplemented,"
            " withdrawn, overdue, ems (the live case data).",
            ("measure",),
            cases_today,
        ),
        Reading(
            "tongban_ratings_cases_pending",
            "Cases whose accepted, overdue or EMS events arrived before their"
            " application_submitted: counted once it arrives.",
            (),
            cases_pending,
        ),
        Reading(
            "tongban_ratings_rectifications",
            "Rectifications of bad reviews per state: awaiting_verification, verified,"
            " resolved (awaiting the return visit), closed, closed_for_appeal.",
            ("state",),
            rectifications_by_state,
        ),
        Reading(
            "tongban_ratings_rectifications_late",
            "Open rectifications a working day past their due date: the verification"
            " or the fix owed and not done (what the escalation sweep escalates).",
            (),
            rectifications_late,
        ),
        Reading(
            "tongban_ratings_sms_pending",
            "Text messages to citizens (the rating link of a window visit) not yet"
            " taken by the SMS gateway: the relay's backlog, retries included.",
            (),
            texts_pending,
        ),
    ]
