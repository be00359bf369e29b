"""Ratings figures read from its database when Prometheus scrapes."""

from collections.abc import Callable

from services.common.metrics import Reading
from services.ratings.service_layer import use_cases
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork


def gauges(new_uow: Callable[[], RatingsUnitOfWork], service: str) -> list[Reading]:
    """Reviews per grade and the praise rate of the whole network; one ratings
    service rates every instance's cases, so there is no per-instance label."""

    def reviews():
        counted = use_cases.count_reviews_by_grade(new_uow())
        return [((str(grade),), count) for grade, count in counted.items()]

    def praise_rate():
        rate = use_cases.network_praise_rate(new_uow())
        # No reviews is no rate, not a rate of 0.
        return [] if rate is None else [((), rate)]

    return [
        Reading(
            "tongban_ratings_reviews",
            "Reviews per grade (1..5).",
            ("grade",),
            reviews,
        ),
        Reading(
            "tongban_ratings_praise_rate",
            "Share of all reviews graded 4 or 5 (praise), 0..1; absent while there are none.",
            (),
            praise_rate,
        ),
    ]
