"""Workflow figures read from the instance's database when Prometheus scrapes."""

from collections.abc import Callable
from datetime import date

from services.common.metrics import Reading
from services.workflow.domain.model import china_today
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork


def gauges(
    new_uow: Callable[[], WorkflowUnitOfWork],
    service: str,
    today: Callable[[], date] = china_today,
) -> list[Reading]:
    """The gauges of one instance; ``service`` is its nameko name (``workflow``,
    ``workflow-js-ga``), since every instance has its own cases."""

    def cases():
        counted = use_cases.count_cases_by_state(new_uow())
        return [((service, state), count) for state, count in counted.items()]

    def overdue_open():
        return [((service,), use_cases.count_overdue_open_cases(new_uow(), today()))]

    def provisional():
        return [((service,), use_cases.count_provisional_cases(new_uow()))]

    def escalations_open():
        counted = use_cases.count_open_escalations(new_uow())
        return [((service, level), count) for level, count in counted.items()]

    return [
        Reading(
            "tongban_workflow_cases",
            "Applications per current state.",
            ("service", "state"),
            cases,
        ),
        Reading(
            "tongban_workflow_cases_overdue_open",
            "Applications still owed an answer (submitted or accepted) and a working day"
            " or more past their due date.",
            ("service",),
            overdue_open,
        ),
        Reading(
            "tongban_workflow_cases_calendar_provisional",
            "Open applications with a due date counted on weekdays only: its year's"
            " working calendar is not loaded.",
            ("service",),
            provisional,
        ),
        Reading(
            "tongban_workflow_escalations_open",
            "Escalations of late work (督办) whose task is still open, per level"
            " (dept_admin, operator).",
            ("service", "level"),
            escalations_open,
        ),
    ]
