"""Reviews per grade and the network's praise rate, as the scrape-time gauges read them."""

from services.common.testing import outbox
from services.ratings.service_layer import indicators, use_cases
from services.ratings.service_layer.gauges import gauges

from .conftest import APPLICANT, NOW, ended_envelope


def reading(uow, name):
    """The gauge called ``name``."""
    [found] = [reading for reading in gauges(lambda: uow, "ratings") if reading.name == name]
    return found


# (store, region, grade): reviews of cases across stores and regions.
REVIEWS = [
    ("store-1", "320102", 5),
    ("store-1", "320102", 4),
    ("store-2", "320106", 4),
    ("store-2", "320106", 3),
    ("store-3", "320506", 1),
    ("store-3", "320506", 5),
]


def review_all(uow, reviews):
    for number, (store_id, region_code, grade) in enumerate(reviews):
        application_id = f"app-{number}"
        assert use_cases.record_ended_case(
            uow,
            ended_envelope(
                application_id=application_id, store_id=store_id, region_code=region_code
            ),
        )
        use_cases.submit_review(uow, APPLICANT, application_id, grade, "", now=NOW)
    # The praise rate is the indicators', counted from the reviews' events.
    for event in outbox(uow):
        if event["type"] == "review_submitted":
            indicators.count_review_submitted(uow, event)


def test_no_review_yet_counts_zero_per_grade_and_has_no_praise_rate(uow):
    reviews = reading(uow, "tongban_ratings_reviews")
    praise_rate = reading(uow, "tongban_ratings_praise_rate")

    assert use_cases.count_reviews_by_grade(uow) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert dict(reviews.read()) == {("1",): 0, ("2",): 0, ("3",): 0, ("4",): 0, ("5",): 0}
    assert indicators.province_praise_rate(uow) is None
    assert praise_rate.read() == []


def test_reviews_are_counted_per_grade_across_the_network(uow):
    review_all(uow, REVIEWS)
    reviews = reading(uow, "tongban_ratings_reviews")

    assert use_cases.count_reviews_by_grade(uow) == {1: 1, 2: 0, 3: 1, 4: 2, 5: 2}
    assert (reviews.name, reviews.labels) == ("tongban_ratings_reviews", ("grade",))
    assert dict(reviews.read()) == {("1",): 1, ("2",): 0, ("3",): 1, ("4",): 2, ("5",): 2}


def test_the_praise_rate_is_the_domains_over_every_review(uow):
    review_all(uow, REVIEWS)
    praise_rate = reading(uow, "tongban_ratings_praise_rate")

    # Grades 4 and 5 are praise: 4 of 6, rounded half up to four places.
    assert indicators.province_praise_rate(uow) == 0.6667
    assert indicators.stats(uow)["overall"].praise_rate == 0.6667
    assert (praise_rate.name, praise_rate.labels) == ("tongban_ratings_praise_rate", ())
    assert praise_rate.read() == [((), 0.6667)]
