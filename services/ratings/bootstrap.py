"""Demo data for the local cluster runner.

Ratings has none: reviews come from completed cases. The function is kept so the
runner can treat every service alike.
"""


def load_demo(uow) -> dict:
    """Load nothing, idempotently; return what was loaded (nothing)."""
    return {}
