"""Demo data for the local cluster runner.

Ratings has no demo reviews: reviews come from ended cases and window visits.
It stores the working calendars shipped with the code, which its rectification
deadlines count on (a year workflow loads later replaces its copy).
"""

from services.ratings.service_layer import rectifications


def load_demo(uow) -> dict:
    """Store the shipped calendar years ratings has no copy of, idempotently;
    return what was stored."""
    return {"calendar_years": rectifications.store_shipped_calendars(uow)}
