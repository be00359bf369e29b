"""Business counters of the workflow service, counted from committed events."""

from prometheus_client import Counter

APPLICATIONS = Counter(
    "tongban_workflow_applications",
    "Applications by what happened to them (submitted, approved, denied, completed).",
    ["outcome"],
)
OVERDUE_CASES = Counter(
    "tongban_workflow_cases_overdue",
    "Cases found past their due date (each case counted once).",
)

_OUTCOMES = {
    "application_submitted": "submitted",
    "application_approved": "approved",
    "application_denied": "denied",
    "application_completed": "completed",
}


def count_committed(envelopes: list[dict]) -> None:
    """Count the business facts a transaction committed."""
    for envelope in envelopes:
        outcome = _OUTCOMES.get(envelope["type"])
        if outcome is not None:
            APPLICATIONS.labels(outcome).inc()
        elif envelope["type"] == "case_overdue":
            OVERDUE_CASES.inc()
