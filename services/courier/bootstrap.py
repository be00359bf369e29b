"""Demo data for the local cluster: the courier has none (shipments come from
applications), but keeps the interface every service offers."""


def load_demo(uow) -> dict:
    """Load nothing; return what was loaded (nothing)."""
    return {}
