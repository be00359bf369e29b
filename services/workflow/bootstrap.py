"""Demo data of the workflow service: the working calendars shipped with the
code, and a process definition for every demo catalogue item."""

from services.workflow.demo import load_processes
from services.workflow.domain.process import ProcessDefinition
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork


def load_demo(uow: WorkflowUnitOfWork) -> dict:
    """Store the shipped calendar years and the demo process definitions.

    Idempotent: years stored already (an operator's included) and items that
    have a process already are left alone, so a second run stores nothing.
    Every instance stores every definition; an instance runs only the items it
    handles. Returns what this run stored.
    """
    years = use_cases.load_shipped_calendars(uow)
    stored = 0
    with uow:
        for entry in load_processes():
            if uow.processes.current(entry["item_id"]) is None:
                definition = ProcessDefinition.parse(entry["definition"])
                uow.processes.add(entry["item_id"], definition, None)
                stored += 1
        uow.commit()
    return {"calendar_years": years, "processes": stored}
