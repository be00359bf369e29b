"""The Application aggregate: one citizen's or enterprise's case for one item.

Plain Python; the service layer loads an Application from its repository, calls one
command method, saves it and writes ``application.events`` to the outbox in the
same transaction.

An actor is the gateway's view of the caller:
``{"user_id", "kind": citizen|staff|operator, "roles": [...], "department_code"}``.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from .calendar import WorkingCalendar
from .events import (
    ApplicationAccepted,
    ApplicationApproved,
    ApplicationCompleted,
    ApplicationDenied,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CaseOverdue,
    Event,
    LicenceIssued,
    SupplementRequested,
)
from .exceptions import Forbidden, InvalidTransition, ValidationFailed

# Due dates and licence dates are Jiangsu calendar days, whatever the server's zone.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class State(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    APPROVED = "approved"
    DENIED = "denied"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class DeliveryMode(StrEnum):
    ONLINE = "online"
    EXPRESS = "express"
    WINDOW = "window"


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class Role(StrEnum):
    WINDOW_CLERK = "window_clerk"
    APPROVER = "approver"
    APPLICANT = "applicant"
    # EMS notices, the overdue sweep and the licence issue have no human actor.
    SYSTEM = "system"


ACTIONS = ("accept", "reject", "request_supplement", "approve", "deny")
WITHDRAWABLE_STATES = frozenset({State.SUBMITTED, State.ACCEPTED, State.SUPPLEMENT_REQUESTED})
# States in which the department owes the applicant an answer; while a supplement
# is requested the clock is stopped, since the case waits on the applicant.
RUNNING_CLOCK_STATES = frozenset({State.SUBMITTED, State.ACCEPTED})
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "street")

_PHONE = re.compile(r"\d{11}")
_POSTCODE = re.compile(r"\d{6}")
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_ID_NUMBER = re.compile(r"\d{17}[\dX]")
_REGION_CODE = re.compile(r"\d{6}")


def china_today() -> date:
    """Today in Jiangsu, whatever the server's zone: time limits count its days."""
    return datetime.now(CHINA_TZ).date()


def past_due(due_date: date, today: date, calendar: WorkingCalendar) -> bool:
    """A working day after the due date has begun (a case due on Friday is late
    on Monday, not on the weekend nobody works)."""
    return calendar.working_days_between(due_date, today) >= 1


@dataclass(frozen=True)
class ItemSnapshot:
    """What the case keeps of the catalog item at submission time; later catalog
    edits do not change an open case."""

    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    modes: tuple[str, ...]
    promised_days: int
    joint_departments: tuple[str, ...] = ()
    # The catalogue window (name, address, phone, postcode); None when it has none.
    window: Mapping[str, Any] | None = None

    @classmethod
    def from_catalog(cls, item: Mapping[str, Any]) -> ItemSnapshot:
        """From catalog's ``get_item`` result."""
        return cls(
            item_id=item["item_id"],
            item_name=item["name"],
            department_code=item["department_code"],
            region_code=item["region_code"],
            store_id=item["store_id"],
            modes=tuple(item["modes"]),
            promised_days=int(item["promised_days"]),
            joint_departments=tuple(item.get("joint_departments") or ()),
            window=dict(item["window"]) if item.get("window") else None,
        )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    state: str
    action: str
    actor_id: str | None
    actor_role: str
    comment: str = ""


@dataclass(frozen=True)
class Licence:
    """An electronic licence. ``holder_id`` is the applicant's user id, or the uscc
    or ID number of the party an agent applied for."""

    licence_no: str
    application_id: str
    holder_id: str
    item_id: str
    item_name: str
    issued_at: datetime
    valid: bool = True


class LicenceNumbers:
    """Licence numbers ``JS<region code, 6 digits><yyyymmdd><serial, 6 digits>``,
    after the issuing instance's prefix (``js-ga.`` on a department's own
    instance, nothing on the shared one).

    ``next_serial(region_code, issued_on)`` comes from the licence repository, which
    also guarantees a number is never issued twice (a unique key); the domain only
    formats it.
    """

    PATTERN = re.compile(r"(?:[a-z0-9][a-z0-9-]{0,23}\.)?JS(\d{6})(\d{8})(\d{6})")

    def __init__(self, next_serial: Callable[[str, date], int], prefix: str = ""):
        if prefix and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,23}\.", prefix):
            raise ValueError(f"licence number prefix must be '<department code>.', got {prefix!r}")
        self._next_serial = next_serial
        self.prefix = prefix

    def next(self, region_code: str, issued_on: date) -> str:
        serial = self._next_serial(region_code, issued_on)
        return self.prefix + self.format(region_code, issued_on, serial)

    @staticmethod
    def format(region_code: str, issued_on: date, serial: int) -> str:
        if not _REGION_CODE.fullmatch(region_code or ""):
            raise ValueError(f"region code must be 6 digits, got {region_code!r}")
        if not 0 <= serial <= 999_999:
            raise ValueError(f"serial must fit in 6 digits, got {serial}")
        return f"JS{region_code}{issued_on:%Y%m%d}{serial:06d}"

    @classmethod
    def is_well_formed(cls, licence_no: str) -> bool:
        match = cls.PATTERN.fullmatch(licence_no or "")
        if not match:
            return False
        try:
            datetime.strptime(match.group(2), "%Y%m%d")
        except ValueError:
            return False
        return True


@dataclass(kw_only=True, eq=False)
class Application:
    application_id: str
    # Item snapshot.
    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    joint_departments: list[str]
    window: dict[str, Any] | None
    promised_days: int
    # Case.
    applicant_id: str
    on_behalf_of: dict[str, Any] | None = None
    form: dict[str, Any]
    materials: list[dict[str, Any]]
    delivery: dict[str, Any]
    state: str
    due_date: date
    submitted_at: datetime
    timeline: list[TimelineEntry] = field(default_factory=list)
    reviews: dict[str, str] = field(default_factory=dict)
    licence_no: str | None = None
    # The licence issued by this case, when loaded or just issued.
    licence: Licence | None = None
    overdue_reported: bool = False
    events: list[Event] = field(default_factory=list, repr=False)

    # ----------------------------------------------------------------- factory

    @classmethod
    def submit(
        cls,
        *,
        item: ItemSnapshot,
        actor: Mapping[str, Any],
        form: Any,
        materials: Any,
        delivery: Any,
        calendar: WorkingCalendar,
        on_behalf_of: Any = None,
        now: datetime | None = None,
        application_id: str | None = None,
    ) -> Application:
        """Open a case. Raises Forbidden unless the actor is a citizen, and
        ValidationFailed naming every bad field ("delivery.address.phone")."""
        if actor.get("kind") != "citizen" or not actor.get("user_id"):
            raise Forbidden("only citizens (or their agents) submit applications")
        errors: dict[str, str] = {}
        if not isinstance(form, Mapping):
            errors["form"] = "must be an object"
        clean_materials, material_errors = _check_materials(materials, required=False)
        clean_delivery, delivery_errors = _check_delivery(delivery, item.modes)
        clean_principal, principal_errors = _check_on_behalf_of(on_behalf_of)
        errors.update(material_errors)
        errors.update(delivery_errors)
        errors.update(principal_errors)
        if errors:
            raise ValidationFailed(errors)

        now = _aware(now)
        application = cls(
            application_id=application_id or uuid.uuid4().hex,
            item_id=item.item_id,
            item_name=item.item_name,
            department_code=item.department_code,
            region_code=item.region_code,
            store_id=item.store_id,
            joint_departments=list(item.joint_departments),
            window=_copy_window(item.window),
            promised_days=item.promised_days,
            applicant_id=actor["user_id"],
            on_behalf_of=clean_principal,
            form=copy.deepcopy(dict(form)),
            materials=clean_materials,
            delivery=clean_delivery,
            state=State.SUBMITTED,
            due_date=calendar.add_working_days(_local_date(now), item.promised_days),
            submitted_at=now,
            reviews={
                code: Decision.PENDING
                for code in _reviewing_departments(item.department_code, item.joint_departments)
            },
        )
        application._log(now, "submit", actor["user_id"], Role.APPLICANT)
        application.events.append(
            ApplicationSubmitted(
                application_id=application.application_id,
                item_id=application.item_id,
                item_name=application.item_name,
                applicant_id=application.applicant_id,
                department_code=application.department_code,
                region_code=application.region_code,
                store_id=application.store_id,
                delivery=copy.deepcopy(application.delivery),
                window=_copy_window(application.window),
                due_date=application.due_date,
            )
        )
        return application

    # ------------------------------------------------------------ staff actions

    def act(
        self,
        actor: Mapping[str, Any],
        action: str,
        comment: str = "",
        *,
        licence_numbers: LicenceNumbers | None = None,
        now: datetime | None = None,
    ) -> None:
        """One of ``ACTIONS`` by name, as the ``act`` RPC receives it.
        ``licence_numbers`` is needed for "approve" (the last approval issues the
        licence)."""
        if action == "accept":
            self.accept(actor, comment, now=now)
        elif action == "reject":
            self.reject(actor, comment, now=now)
        elif action == "request_supplement":
            self.request_supplement(actor, comment, now=now)
        elif action == "approve":
            if licence_numbers is None:
                raise TypeError("approve needs licence_numbers")
            self.approve(actor, comment, licence_numbers=licence_numbers, now=now)
        elif action == "deny":
            self.deny(actor, comment, now=now)
        else:
            raise ValidationFailed({"action": f"must be one of {', '.join(ACTIONS)}"})

    def accept(
        self,
        actor: Mapping[str, Any],
        comment: str = "",
        *,
        now: datetime | None = None,
    ) -> None:
        """The window takes the case on (受理)."""
        role = self._require_window_staff(actor, "accept")
        self._require_state("accept", State.SUBMITTED)
        self._accept(_aware(now), "accept", actor["user_id"], role, comment)

    def reject(
        self, actor: Mapping[str, Any], comment: str, *, now: datetime | None = None
    ) -> None:
        """The window refuses to take the case on (不予受理); the reason is required."""
        role = self._require_window_staff(actor, "reject")
        self._require_state("reject", State.SUBMITTED)
        comment = _require_comment(comment, "a rejection must give the reason")
        now = _aware(now)
        self.state = State.REJECTED
        self._log(now, "reject", actor["user_id"], role, comment)
        self.events.append(
            ApplicationRejected(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                comment=comment,
            )
        )

    def request_supplement(
        self, actor: Mapping[str, Any], comment: str, *, now: datetime | None = None
    ) -> None:
        """Ask the applicant for more materials; the comment must say which, all at
        once (一次性告知)."""
        role = self._require_window_staff(actor, "request_supplement")
        self._require_state("request_supplement", State.ACCEPTED)
        comment = _require_comment(comment, "say which materials are missing")
        now = _aware(now)
        self.state = State.SUPPLEMENT_REQUESTED
        self._log(now, "request_supplement", actor["user_id"], role, comment)
        self.events.append(SupplementRequested(application_id=self.application_id, comment=comment))

    def approve(
        self,
        actor: Mapping[str, Any],
        comment: str = "",
        *,
        licence_numbers: LicenceNumbers,
        now: datetime | None = None,
    ) -> None:
        """One reviewing department approves. The last approval approves the case
        and issues the licence; unless the result goes by express the case is then
        complete."""
        department = self._require_undecided_reviewer(actor, "approve")
        now = _aware(now)
        self.reviews[department] = Decision.APPROVED
        if any(decision != Decision.APPROVED for decision in self.reviews.values()):
            self._log(now, "approve", actor["user_id"], Role.APPROVER, comment)
            return
        self.state = State.APPROVED
        self._log(now, "approve", actor["user_id"], Role.APPROVER, comment)
        self.events.append(
            ApplicationApproved(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                delivery=copy.deepcopy(self.delivery),
                approved_at=now,
            )
        )
        self._issue_licence(licence_numbers, now)
        if self.delivery["mode"] != DeliveryMode.EXPRESS:
            self._complete(now)

    def deny(self, actor: Mapping[str, Any], comment: str, *, now: datetime | None = None) -> None:
        """One reviewing department denies, which denies the case; the reason is
        required."""
        department = self._require_undecided_reviewer(actor, "deny")
        comment = _require_comment(comment, "a denial must give the reason")
        now = _aware(now)
        self.reviews[department] = Decision.DENIED
        self.state = State.DENIED
        self._log(now, "deny", actor["user_id"], Role.APPROVER, comment)
        self.events.append(
            ApplicationDenied(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                comment=comment,
            )
        )

    # -------------------------------------------------------- applicant actions

    def supplement(
        self,
        actor: Mapping[str, Any],
        materials: Any,
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> None:
        """The applicant adds the requested materials; the case is accepted again
        and the due date moves by the working days it waited on the applicant."""
        self._require_applicant(actor, "supplement")
        self._require_state("supplement", State.SUPPLEMENT_REQUESTED)
        clean, errors = _check_materials(materials, required=True)
        if errors:
            raise ValidationFailed(errors)
        now = _aware(now)
        requested_on = _local_date(self._last_entry("request_supplement").at)
        # The clock stops the day after the request and restarts the day after the
        # supplement (补正期间不计入承诺时限).
        waited = calendar.working_days_between(requested_on, _local_date(now))
        self.due_date = calendar.add_working_days(self.due_date, max(waited, 0))
        self.materials.extend(clean)
        self._accept(now, "supplement", actor["user_id"], Role.APPLICANT, "")

    def withdraw(
        self,
        actor: Mapping[str, Any],
        comment: str = "",
        *,
        now: datetime | None = None,
    ) -> None:
        """The applicant withdraws a case that has not been decided."""
        self._require_applicant(actor, "withdraw")
        if self.state not in WITHDRAWABLE_STATES:
            raise InvalidTransition(f"cannot withdraw a case that is {self.state}")
        now = _aware(now)
        self.state = State.WITHDRAWN
        self._log(now, "withdraw", actor["user_id"], Role.APPLICANT, comment)
        self.events.append(ApplicationWithdrawn(application_id=self.application_id))

    # -------------------------------------------------------- courier notices

    def materials_received(self, *, now: datetime | None = None) -> bool:
        """EMS delivered the applicant's materials to the window: the case is
        accepted. Returns False (and changes nothing) when a clerk already accepted
        it or it is closed, since the notice can arrive late."""
        self._require_express("materials_received")
        if self.state != State.SUBMITTED:
            return False
        self._accept(_aware(now), "materials_received", None, Role.SYSTEM, "")
        return True

    def result_delivered(self, *, now: datetime | None = None) -> bool:
        """EMS delivered the result to the applicant: the case is complete.
        Returns False for a repeated notice on a completed case."""
        self._require_express("result_delivered")
        if self.state == State.COMPLETED:
            return False
        self._require_state("result_delivered", State.APPROVED)
        self._complete(_aware(now))
        return True

    # ----------------------------------------------------------------- overdue

    def overdue(self, today: date, calendar: WorkingCalendar) -> bool:
        """Late: the department still owes an answer (``RUNNING_CLOCK_STATES``)
        and the case is ``past_due``."""
        return self.state in RUNNING_CLOCK_STATES and past_due(self.due_date, today, calendar)

    def mark_overdue(
        self, today: date, calendar: WorkingCalendar, *, now: datetime | None = None
    ) -> bool:
        """Record ``case_overdue`` the first time the case is found late; True when
        it did."""
        if self.overdue_reported or not self.overdue(today, calendar):
            return False
        self.overdue_reported = True
        self._log(_aware(now), "overdue", None, Role.SYSTEM)
        self.events.append(CaseOverdue(application_id=self.application_id, due_date=self.due_date))
        return True

    # -------------------------------------------------------------- visibility

    def visible_to(self, actor: Mapping[str, Any]) -> bool:
        """Applicants (and agents) see their own cases, staff the cases of their
        department as owner or joint reviewer, operators every case."""
        kind = actor.get("kind")
        if kind == "operator":
            return True
        if kind == "citizen":
            return bool(actor.get("user_id")) and actor.get("user_id") == self.applicant_id
        if kind == "staff":
            department = actor.get("department_code")
            return bool(department) and department in self.reviewing_departments
        return False

    @property
    def reviewing_departments(self) -> list[str]:
        return _reviewing_departments(self.department_code, self.joint_departments)

    # ---------------------------------------------------------------- internals

    def _accept(
        self, now: datetime, action: str, actor_id: str | None, role: str, comment: str
    ) -> None:
        self.state = State.ACCEPTED
        self._log(now, action, actor_id, role, comment)
        self.events.append(ApplicationAccepted(application_id=self.application_id, accepted_at=now))

    def _issue_licence(self, licence_numbers: LicenceNumbers, now: datetime) -> None:
        licence_no = licence_numbers.next(self.region_code, _local_date(now))
        self.licence = Licence(
            licence_no=licence_no,
            application_id=self.application_id,
            holder_id=self._holder_id(),
            item_id=self.item_id,
            item_name=self.item_name,
            issued_at=now,
        )
        self.licence_no = licence_no
        self._log(now, "issue_licence", None, Role.SYSTEM)
        self.events.append(
            LicenceIssued(
                licence_no=licence_no,
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                department_code=self.department_code,
                delivery=copy.deepcopy(self.delivery),
                window=_copy_window(self.window),
            )
        )

    def _complete(self, now: datetime) -> None:
        self.state = State.COMPLETED
        self._log(now, "complete", None, Role.SYSTEM)
        self.events.append(
            ApplicationCompleted(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                item_name=self.item_name,
                department_code=self.department_code,
                region_code=self.region_code,
                store_id=self.store_id,
                completed_at=now,
            )
        )

    def _holder_id(self) -> str:
        principal = self.on_behalf_of
        if not principal:
            return self.applicant_id
        if principal["kind"] == "enterprise":
            return principal["uscc"]
        return principal["id_number"]

    def _log(
        self,
        now: datetime,
        action: str,
        actor_id: str | None,
        role: str,
        comment: str = "",
    ) -> None:
        self.timeline.append(
            TimelineEntry(
                at=now,
                state=str(self.state),
                action=action,
                actor_id=actor_id,
                actor_role=str(role),
                comment=comment,
            )
        )

    def _last_entry(self, action: str) -> TimelineEntry:
        for entry in reversed(self.timeline):
            if entry.action == action:
                return entry
        raise LookupError(f"no {action} entry in the timeline")

    def _require_state(self, action: str, *allowed: State) -> None:
        if self.state not in allowed:
            raise InvalidTransition(f"cannot {action} a case that is {self.state}")

    def _require_express(self, notice: str) -> None:
        if self.delivery["mode"] != DeliveryMode.EXPRESS:
            raise InvalidTransition(
                f"{notice} only applies to express delivery, this case is {self.delivery['mode']}"
            )

    def _require_window_staff(self, actor: Mapping[str, Any], action: str) -> str:
        roles = _roles(actor)
        if (
            actor.get("kind") != "staff"
            or actor.get("department_code") != self.department_code
            or not roles & {Role.WINDOW_CLERK, Role.APPROVER}
        ):
            raise Forbidden(
                f"{action} needs a window clerk or approver of department {self.department_code}"
            )
        return Role.WINDOW_CLERK if Role.WINDOW_CLERK in roles else Role.APPROVER

    def _require_undecided_reviewer(self, actor: Mapping[str, Any], action: str) -> str:
        department = actor.get("department_code")
        if (
            actor.get("kind") != "staff"
            or Role.APPROVER not in _roles(actor)
            or department not in self.reviews
        ):
            raise Forbidden(
                f"{action} needs an approver of a reviewing department ({', '.join(self.reviews)})"
            )
        self._require_state(action, State.ACCEPTED)
        if self.reviews[department] != Decision.PENDING:
            raise InvalidTransition(f"department {department} has already decided")
        return department

    def _require_applicant(self, actor: Mapping[str, Any], action: str) -> None:
        if actor.get("kind") != "citizen" or actor.get("user_id") != self.applicant_id:
            raise Forbidden(f"only the applicant may {action}")


# ------------------------------------------------------------------- helpers


def _reviewing_departments(owner: str, joint: Any) -> list[str]:
    departments = [owner]
    for code in joint or ():
        if code not in departments:
            departments.append(code)
    return departments


def _copy_window(window: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(window) if window else None


def _roles(actor: Mapping[str, Any]) -> set[str]:
    return set(actor.get("roles") or ())


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return now


def _local_date(instant: datetime) -> date:
    return instant.astimezone(CHINA_TZ).date()


def _require_comment(comment: Any, problem: str) -> str:
    if not isinstance(comment, str) or not comment.strip():
        raise ValidationFailed({"comment": problem})
    return comment.strip()


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _check_materials(materials: Any, *, required: bool) -> tuple[list[dict], dict[str, str]]:
    if not isinstance(materials, list):
        return [], {"materials": "must be a list"}
    if required and not materials:
        return [], {"materials": "at least one material is required"}
    errors: dict[str, str] = {}
    for index, material in enumerate(materials):
        if not isinstance(material, Mapping):
            errors[f"materials.{index}"] = "must be an object with a name"
        elif _blank(material.get("name")):
            errors[f"materials.{index}.name"] = "is required"
    if errors:
        return [], errors
    return [copy.deepcopy(dict(material)) for material in materials], {}


def _check_delivery(delivery: Any, modes: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    if not isinstance(delivery, Mapping):
        return {}, {"delivery": "must be an object with a mode"}
    errors: dict[str, str] = {}
    mode = delivery.get("mode")
    if not isinstance(mode, str) or mode not in tuple(DeliveryMode):
        errors["delivery.mode"] = "must be one of online, express, window"
    elif mode not in modes:
        errors["delivery.mode"] = f"this item offers {', '.join(modes) or 'no delivery'}"
    address = None
    if mode == DeliveryMode.EXPRESS:
        address, address_errors = _check_address(delivery.get("address"))
        errors.update(address_errors)
    # Other modes need no address; one sent anyway is dropped, not kept unchecked.
    return {"mode": mode, "address": address}, errors


def _check_address(address: Any) -> tuple[dict | None, dict[str, str]]:
    if not isinstance(address, Mapping):
        return None, {"delivery.address": "is required for express delivery"}
    errors = {
        f"delivery.address.{name}": "is required"
        for name in ADDRESS_FIELDS
        if _blank(address.get(name))
    }
    phone = address.get("phone")
    if "delivery.address.phone" not in errors and not _PHONE.fullmatch(phone.strip()):
        errors["delivery.address.phone"] = "must be 11 digits"
    postcode = address.get("postcode")
    if postcode not in (None, "") and not (
        isinstance(postcode, str) and _POSTCODE.fullmatch(postcode)
    ):
        errors["delivery.address.postcode"] = "must be 6 digits"
    if errors:
        return None, errors
    clean = {name: address[name].strip() for name in ADDRESS_FIELDS}
    clean["postcode"] = postcode or None
    return clean, {}


def _check_on_behalf_of(principal: Any) -> tuple[dict | None, dict[str, str]]:
    """An agent may apply for an enterprise ``{kind: enterprise, uscc, name?}`` or a
    person ``{kind: person, name, id_number}``."""
    if principal is None:
        return None, {}
    if not isinstance(principal, Mapping):
        return None, {"on_behalf_of": "must be an object with a kind"}
    kind = principal.get("kind")
    errors: dict[str, str] = {}
    if kind == "enterprise":
        uscc = principal.get("uscc")
        if not isinstance(uscc, str) or not _USCC.fullmatch(uscc):
            errors["on_behalf_of.uscc"] = "must be an 18-character unified social credit code"
        keep = ("kind", "uscc", "name")
    elif kind == "person":
        if _blank(principal.get("name")):
            errors["on_behalf_of.name"] = "is required"
        id_number = principal.get("id_number")
        if not isinstance(id_number, str) or not _ID_NUMBER.fullmatch(id_number):
            errors["on_behalf_of.id_number"] = "must be an 18-character ID number"
        keep = ("kind", "name", "id_number")
    else:
        return None, {"on_behalf_of.kind": "must be enterprise or person"}
    if errors:
        return None, errors
    return {key: principal.get(key) for key in keep}, {}
