"""Which workflow instance answers for what, and lists that span instances.

The shared provincial instance (``workflow``) runs every item unless a
department runs its own instance (``workflow-<code>``, named in
``WORKFLOW_DEPARTMENTS``). A command about a case goes to the instance its id
names (``services.common.instances``); a licence to the instance of the
department whose USCC its number carries (the catalogue's departments, which the
gateway caches); a new application goes to the instance the
item's guide names (``handled_by``); a citizen's lists span every instance and are
merged here, newest first.

Plain Python: the gateway hands in ``call(instance, method, **arguments)``, the
RPC with the request's correlation id, so the rules are tested without nameko.
"""

from collections.abc import Callable
from datetime import datetime

import eventlet

from services.common import instances
from services.common.errors import NotFound, Unavailable
from services.common.schemas import MAX_PAGE_SIZE

Call = Callable[..., object]


def _instant(value) -> float:
    """An ISO 8601 instant as a number to sort by (missing or odd: oldest)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("-inf")


def newest_first(entries: list, at: str, key: str) -> list:
    """Entries from several instances in one order: ``at`` descending, then
    ``key`` ascending (the order each instance lists in)."""
    return sorted(entries, key=lambda entry: (-_instant(entry.get(at)), str(entry.get(key))))


def newest_raised_first(entries: list) -> list:
    """Escalations from several instances, newest first (``raised_at``
    descending); entries of one case keep their instance's order."""
    return newest_first(entries, "raised_at", "application_id")


def soonest_due_first(entries: list) -> list:
    """Worklist entries by their task's due date, soonest first, those without
    an open task last, then newest first (the order ``sort=due`` asks of each
    instance)."""

    def order(entry):
        task = entry.get("task") or {}
        due = task.get("due_date")
        return (
            due is None,
            due or "",
            -_instant(entry.get("submitted_at")),
            str(entry.get("application_id")),
        )

    return sorted(entries, key=order)


class WorkflowInstances:
    """The workflow instances this gateway knows, from ``WORKFLOW_DEPARTMENTS``."""

    def __init__(self, departments: list[str]):
        self.departments = list(departments)
        self.names = [instances.SHARED_WORKFLOW] + [
            instances.instance_for(code) for code in self.departments
        ]

    @classmethod
    def from_config(cls, config: dict) -> "WorkflowInstances":
        return cls(instances.parse_departments(config.get("WORKFLOW_DEPARTMENTS")))

    # ------------------------------------------------------------- routing

    def configured(self, instance: str) -> str:
        """``instance`` when this gateway knows it; Unavailable (503) otherwise."""
        if instance not in self.names:
            raise Unavailable(
                f"workflow instance {instance} is not configured at this gateway"
                " (WORKFLOW_DEPARTMENTS)"
            )
        return instance

    def of(self, identifier: str) -> str:
        """The instance an application id or licence number names (its prefix).

        NotFound for an id that no instance this gateway knows could have
        issued: a malformed prefix, or a department instance it does not route
        to (which may not exist at all; an item handled there is a 503 instead,
        see :meth:`for_item`)."""
        instance = instances.workflow_instance_of(identifier)
        if instance not in self.names:
            raise NotFound(f"no workflow instance {instance} answers at this gateway")
        return instance

    def for_licence(self, licence_no: str, departments: list) -> list[str]:
        """The instances to ask about a licence, in order: the one its number
        names (``instances.licence_instance``: an old number's prefix, a
        national number's issuer USCC among the catalogue's ``departments``),
        else, for an issuer no department has (yet), every instance. NotFound
        for a string that is no licence number, or an instance not routed here."""
        instance = instances.licence_instance(licence_no, departments, self.departments)
        if instance is None:
            return list(self.names)
        if instance not in self.names:
            raise NotFound(f"no workflow instance {instance} answers at this gateway")
        return [instance]

    def first_answer(self, targets: list[str], ask: Callable[[str], object]):
        """``ask(instance)`` of each target in turn until one does not answer
        NotFound (that one's answer); NotFound when none knows it."""
        missing: NotFound | None = None
        for instance in targets:
            try:
                return ask(instance)
            except NotFound as error:
                missing = error
        raise missing or NotFound("not found")

    def for_item(self, guide: dict) -> str:
        """The instance that handles new applications for the item of ``guide``."""
        return self.configured(guide.get("handled_by") or instances.SHARED_WORKFLOW)

    def for_worklist(self, department_code: str | None) -> list[str]:
        """Every instance: a department's work may be on any of them (a joint
        review of a case that another department's instance handles), its own
        instance first."""
        if department_code in self.departments:
            own = instances.instance_for(department_code)
            return [own] + [name for name in self.names if name != own]
        return list(self.names)

    # ------------------------------------------------------------- fan-out

    @staticmethod
    def each(targets: list[str], fetch: Callable[[str], object]) -> list:
        """``fetch(instance)`` for every target at once; any failure fails the
        whole answer (503/504), never a silently shorter list."""
        if len(targets) == 1:
            return [fetch(targets[0])]

        def guarded(instance):
            # An error is handed back, not raised in the greenthread: eventlet's
            # hub would print its traceback (a 4xx of one instance is an answer).
            try:
                return fetch(instance), None
            except Exception as error:  # noqa: BLE001  (re-raised below, in the caller)
                return None, error

        pile = eventlet.GreenPile(len(targets))
        for instance in targets:
            pile.spawn(guarded, instance)
        answers = list(pile)
        for _, error in answers:
            if error is not None:
                raise error
        return [answer for answer, _ in answers]

    def merged_page(
        self,
        call: Call,
        targets: list[str],
        method: str,
        query: dict,
        order: Callable[[list], list] | None = None,
        **arguments,
    ):
        """One page of a list of cases that spans ``targets``, newest first (or
        in ``order``, the order each instance lists in).

        Each instance is asked for its first ``page * page_size`` cases (in pages
        it accepts); the merged list is paged here and ``total`` is the sum of
        the instances' totals. One instance: its answer as it is.
        """
        page, page_size = query["page"], query["page_size"]
        if len(targets) == 1:
            return call(targets[0], method, **arguments, **query)
        wanted = page * page_size
        fetch_size = min(MAX_PAGE_SIZE, wanted)
        rest = {key: value for key, value in query.items() if key not in ("page", "page_size")}

        def top(instance):
            entries, total, number = [], 0, 1
            while len(entries) < wanted:
                answer = call(
                    instance, method, **arguments, **rest, page=number, page_size=fetch_size
                )
                got = list(answer["items"])
                entries.extend(got)
                total = int(answer["total"])
                if len(got) < fetch_size or len(entries) >= total:
                    break
                number += 1
            return entries, total

        answers = self.each(targets, top)
        entries = [entry for found, _ in answers for entry in found]
        if order is None:
            merged = newest_first(entries, "submitted_at", "application_id")
        else:
            merged = order(entries)
        start = (page - 1) * page_size
        return {
            "items": merged[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": sum(total for _, total in answers),
        }

    def merged_collection(self, call: Call, method: str, at: str, key: str, **arguments):
        """``{"items": [...]}`` of every instance, newest ``at`` first."""
        answers = self.each(self.names, lambda instance: call(instance, method, **arguments))
        if len(answers) == 1:
            return answers[0]
        merged = [entry for answer in answers for entry in answer["items"]]
        return {"items": newest_first(merged, at, key)}
