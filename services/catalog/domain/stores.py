"""City flagship stores: one per city, gathering the stores of the departments
seated in the city or its counties.

A city store's rating is not told by ratings: it aggregates its department
stores' ratings. Reviews add up; the praise rate and the average grade are the
department stores' weighted by their reviews (rounded like ratings rounds
them: 4 places for a share, 2 for a grade); both are None when no review counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from .events import StoreRatingUpdated
from .model import Region, Store, StoreRating

DEPARTMENT_STORE = "department"
CITY_STORE = "city"
STORE_KINDS = (DEPARTMENT_STORE, CITY_STORE)

CITY_STORE_PREFIX = "store-city-"


def city_store_id(city_code: str) -> str:
    return f"{CITY_STORE_PREFIX}{city_code}"


def city_store_for(city: Region) -> Store:
    """The (new, unrated) flagship store of ``city``."""
    if city.level != "city":
        raise ValueError(f"region {city.code} is not a city")
    return Store(
        store_id=city_store_id(city.code),
        name=f"{city.name}旗舰店",
        department_code=None,
        region_code=city.code,
        kind=CITY_STORE,
    )


def city_of(region: Region | None) -> str | None:
    """The city a region is or belongs to (None: the province, or unknown)."""
    if region is None:
        return None
    if region.level == "city":
        return region.code
    if region.level == "county":
        return region.parent_code
    return None


def aggregate_rating(ratings: Iterable[StoreRating]) -> StoreRating:
    """The rating of stores taken together: reviews summed, rates weighted by reviews."""
    rated = [rating for rating in ratings if rating.reviews]
    reviews = sum(rating.reviews for rating in rated)
    if not reviews:
        return StoreRating()
    praise = sum(rating.praise_rate * rating.reviews for rating in rated) / reviews
    grade = sum(rating.average_grade * rating.reviews for rating in rated) / reviews
    return StoreRating(
        reviews=reviews,
        praise_rate=min(1.0, max(0.0, round(praise, 4))),
        average_grade=min(5.0, max(1.0, round(grade, 2))),
    )


def show_aggregate(city_store: Store, department_ratings: Iterable[StoreRating]) -> bool:
    """Show on ``city_store`` the aggregate of its department stores' ratings.
    Records StoreRatingUpdated and returns True when the figures change."""
    rating = aggregate_rating(department_ratings)
    if rating == city_store.rating:
        return False
    city_store.rating = rating
    city_store.events.append(
        StoreRatingUpdated(
            store_id=city_store.store_id,
            reviews=rating.reviews,
            praise_rate=rating.praise_rate,
            average_grade=rating.average_grade,
        )
    )
    return True
