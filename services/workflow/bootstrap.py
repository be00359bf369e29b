"""Demo data of the workflow service: the 2026 working calendar."""

from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork


def load_demo(uow: WorkflowUnitOfWork) -> dict:
    """Store the 2026 holidays and make-up workdays in the calendar table.

    Idempotent: days already stored (including a department admin's edits) are
    left alone, so a second run stores nothing. Returns how many days this run
    stored.
    """
    return {"calendar_days": use_cases.load_default_calendar(uow)}
