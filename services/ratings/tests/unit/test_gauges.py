"""Reviews per grade and the network's praise rate, as the scrape-time gauges read them."""

from services.ratings.service_layer import use_cases
from services.ratings.service_layer.gauges import gauges

from .conftest import APPLICANT, NOW, completed_envelope

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
        assert use_cases.record_completed_case(
            uow,
            completed_envelope(
                application_id=application_id, store_id=store_id, region_code=region_code
            ),
        )
        use_cases.submit_review(uow, APPLICANT, application_id, grade, "", now=NOW)


def test_no_review_yet_counts_zero_per_grade_and_has_no_praise_rate(uow):
    reviews, praise_rate = gauges(lambda: uow, "ratings")

    assert use_cases.count_reviews_by_grade(uow) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert dict(reviews.read()) == {("1",): 0, ("2",): 0, ("3",): 0, ("4",): 0, ("5",): 0}
    assert use_cases.network_praise_rate(uow) is None
    assert praise_rate.read() == []


def test_reviews_are_counted_per_grade_across_the_network(uow):
    review_all(uow, REVIEWS)
    [reviews, _] = gauges(lambda: uow, "ratings")

    assert use_cases.count_reviews_by_grade(uow) == {1: 1, 2: 0, 3: 1, 4: 2, 5: 2}
    assert (reviews.name, reviews.labels) == ("tongban_ratings_reviews", ("grade",))
    assert dict(reviews.read()) == {("1",): 1, ("2",): 0, ("3",): 1, ("4",): 2, ("5",): 2}


def test_the_praise_rate_is_the_domains_over_every_review(uow):
    review_all(uow, REVIEWS)
    [_, praise_rate] = gauges(lambda: uow, "ratings")

    # Grades 4 and 5 are praise: 4 of 6, rounded half up to four places.
    assert use_cases.network_praise_rate(uow) == 0.6667
    assert use_cases.stats(uow)["overall"].praise_rate == 0.6667
    assert (praise_rate.name, praise_rate.labels) == ("tongban_ratings_praise_rate", ())
    assert praise_rate.read() == [((), 0.6667)]
