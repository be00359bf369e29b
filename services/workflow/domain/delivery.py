"""Express cases whose EMS shipment failed, and how they recover.

Plain Python, called by the Application (``model.py``) with the case itself.

- The materials pickup failed (the case is submitted and waits for its
  materials at the window): nothing is owed by the department, the case waits
  on the applicant, so its clock stops (``stopped_for`` ``delivery``) and staff
  may only reject it meanwhile. The applicant chooses:
  ``reship_materials`` (a new EMS pickup, from a new address when given;
  ``redelivery_requested`` for the courier) or ``bring_to_window`` (the window
  clerk accepts the case when the materials come, as for a window case).
  Either way the clock runs again from the choice, as it runs from submission
  for an express or window case.
- The result delivery failed (the case is approved and waits for the result to
  reach the applicant; its decision is made, no clock runs): the applicant
  chooses ``redeliver_result`` (to a new address when given) or
  ``collect_at_window``. A window clerk of the case's department may
  ``hand_over`` the result at the window as soon as the delivery failed (the
  applicant may come without choosing first), not while a re-delivery is on its
  way; the case completes.
- A new shipment is a new attempt (2, 3, ...) and may fail again: the choices
  come back. A failure of an older attempt, or one that no longer concerns the
  case (its materials already accepted, its result already handed over),
  changes nothing.

So a case is never left without a way on: after a failure the applicant has
two choices (and may withdraw an undecided case); after a choice either a
person acts at the window or an EMS shipment is on its way, which ends
delivered or failed (an order EMS never takes fails after courier's retry
window, ``ems_unavailable``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .events import RedeliveryRequested
from .exceptions import Forbidden, InvalidTransition, ValidationFailed

MATERIALS = "materials"
RESULT = "result"
DIRECTIONS = (MATERIALS, RESULT)

RESHIP_MATERIALS = "reship_materials"
BRING_TO_WINDOW = "bring_to_window"
REDELIVER_RESULT = "redeliver_result"
COLLECT_AT_WINDOW = "collect_at_window"
HAND_OVER = "hand_over"
CHOICES = {
    MATERIALS: (RESHIP_MATERIALS, BRING_TO_WINDOW),
    RESULT: (REDELIVER_RESULT, COLLECT_AT_WINDOW),
}
ALL_CHOICES = (*CHOICES[MATERIALS], *CHOICES[RESULT])
# The choices that ask the courier for a new shipment.
SHIP_AGAIN = (RESHIP_MATERIALS, REDELIVER_RESULT)
ACTIONS = (*ALL_CHOICES, HAND_OVER)
FAILED_ACTION = "shipment_failed"
# Clock.stopped_for while the case waits for the applicant's choice.
CLOCK_STOPPED_FOR = "delivery"

_SUBMITTED, _SUPPLEMENT, _APPROVED = "submitted", "supplement_requested", "approved"
_WAITING_FOR_MATERIALS = (_SUBMITTED, _SUPPLEMENT)
_WINDOW_ROLES = {"window_clerk", "approver"}


@dataclass
class Shipping:
    """The case's EMS shipments as workflow knows them: the latest attempt in
    each direction (1 until a new one was asked for), the last failure and the
    applicant's answer to it (None while it waits)."""

    attempts: dict[str, int] = field(default_factory=dict)
    failure: dict[str, Any] | None = None
    choice: str | None = None

    def attempt(self, direction: str) -> int:
        return self.attempts.get(direction, 1)

    @property
    def awaiting_choice(self) -> bool:
        return self.failure is not None and self.choice is None

    @property
    def shown(self) -> dict[str, Any] | None:
        """The last failure with the applicant's choice, as the case shows it."""
        return None if self.failure is None else {**self.failure, "choice": self.choice}

    @property
    def failed_direction(self) -> str | None:
        return None if self.failure is None else self.failure["direction"]

    def to_dict(self) -> dict[str, Any]:
        failure = None
        if self.failure is not None:
            failure = {**self.failure, "failed_at": self.failure["failed_at"].isoformat()}
        return {"attempts": dict(self.attempts), "failure": failure, "choice": self.choice}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Shipping:
        data = data or {}
        failure = data.get("failure")
        if failure is not None:
            failure = {**failure, "failed_at": datetime.fromisoformat(failure["failed_at"])}
        return cls(
            attempts={key: int(value) for key, value in (data.get("attempts") or {}).items()},
            failure=failure,
            choice=data.get("choice"),
        )


def awaiting_materials_choice(case) -> bool:
    """The materials pickup failed and the applicant has not chosen yet: staff
    may only reject the case meanwhile."""
    shipping: Shipping = case.shipping
    return (
        shipping.awaiting_choice
        and shipping.failed_direction == MATERIALS
        and case.state in _WAITING_FOR_MATERIALS
    )


def record_failure(
    case,
    *,
    direction: str,
    reason: str,
    tracking_no: str | None,
    description: str,
    failed_at: datetime,
    attempt: int,
    today: date,
    now: datetime,
) -> bool:
    """courier's shipment_failed: keep the failure for the applicant's choice
    (see the module). True when the case changed."""
    shipping: Shipping = case.shipping
    if case.delivery.get("mode") != "express" or direction not in DIRECTIONS:
        return False
    if attempt != shipping.attempt(direction):
        return False  # an older attempt's news
    if direction == MATERIALS and not _waiting_for_materials(case):
        return False
    if direction == RESULT and case.state != _APPROVED:
        return False
    failure = {
        "direction": direction,
        "reason": reason,
        "tracking_no": tracking_no,
        "description": description or "",
        "failed_at": failed_at,
        "attempt": attempt,
    }
    if shipping.failure == failure:
        return False
    shipping.failure = failure
    shipping.choice = None
    if direction == MATERIALS and case.clock.running:
        case.clock.stop(today, CLOCK_STOPPED_FOR)
    comment = f"{direction}: {reason}"
    if tracking_no:
        comment += f" ({tracking_no})"
    if description:
        comment += f" {description}"
    case._log(now, FAILED_ACTION, None, "system", comment)
    return True


def choose(
    case,
    actor: Mapping[str, Any],
    choice: Any,
    address: Any = None,
    *,
    calendar,
    today: date,
    now: datetime,
) -> None:
    """The applicant's answer to the failed shipment (see the module);
    ``address`` (with reship_materials or redeliver_result only) replaces the
    case's delivery address."""
    if choice not in ALL_CHOICES:
        raise ValidationFailed({"choice": f"must be one of {', '.join(ALL_CHOICES)}"})
    case._require_applicant(actor, choice)
    shipping: Shipping = case.shipping
    direction = shipping.failed_direction
    if not shipping.awaiting_choice or not _still_concerns(case, direction):
        raise InvalidTransition("no failed shipment of this case waits for a choice")
    if choice not in CHOICES[direction]:
        raise InvalidTransition(
            f"after a failed {direction} shipment the choices are {' or '.join(CHOICES[direction])}"
        )
    clean = None
    if address is not None:
        if choice not in SHIP_AGAIN:
            raise ValidationFailed({"address": f"only with {' or '.join(SHIP_AGAIN)}"})
        clean = _clean_address(address)
    shipping.choice = choice
    comment = ""
    if choice in SHIP_AGAIN:
        attempt = shipping.attempt(direction) + 1
        shipping.attempts[direction] = attempt
        if clean is not None:
            case.delivery = {**case.delivery, "address": clean}
        case.events.append(
            RedeliveryRequested(
                application_id=case.application_id,
                direction=direction,
                address=dict(clean) if clean is not None else None,
                attempt=attempt,
            )
        )
        comment = f"{direction} shipment {attempt}" + (" to a new address" if clean else "")
    if direction == MATERIALS and case.clock.stopped_for == CLOCK_STOPPED_FOR:
        case._restart_clock(today, calendar)
    case._log(now, choice, actor["user_id"], "applicant", comment)


def hand_over(case, actor: Mapping[str, Any], comment: str, *, now: datetime) -> None:
    """A window clerk of the case's department hands the result over at the
    window after its delivery failed: the case completes."""
    roles = set(actor.get("roles") or ())
    if not (
        actor.get("kind") == "staff"
        and actor.get("department_code") == case.department_code
        and roles & _WINDOW_ROLES
    ):
        raise Forbidden(f"the result is handed over by a window clerk of {case.department_code}")
    if not may_hand_over(case):
        raise InvalidTransition(
            "the result is handed over at the window only after its delivery failed,"
            " not while a new delivery is on its way"
        )
    role = "window_clerk" if "window_clerk" in roles else "approver"
    case.shipping.choice = case.shipping.choice or COLLECT_AT_WINDOW
    case._log(now, HAND_OVER, actor["user_id"], role, (comment or "").strip())
    case._complete(now)


def may_hand_over(case) -> bool:
    shipping: Shipping = case.shipping
    return (
        case.state == _APPROVED
        and shipping.failed_direction == RESULT
        and shipping.choice in (None, COLLECT_AT_WINDOW)
    )


def actions_for(case, actor: Mapping[str, Any]) -> list[dict[str, str | None]]:
    """The recovery actions ``actor`` may take now (see the module)."""
    shipping: Shipping = case.shipping
    found: list[dict[str, str | None]] = []
    direction = shipping.failed_direction
    if shipping.awaiting_choice and _still_concerns(case, direction) and case._is_applicant(actor):
        found.extend({"action": choice, "step": None} for choice in CHOICES[direction])
    if (
        may_hand_over(case)
        and actor.get("kind") == "staff"
        and actor.get("department_code") == case.department_code
        and set(actor.get("roles") or ()) & _WINDOW_ROLES
    ):
        found.append({"action": HAND_OVER, "step": None})
    return found


def _waiting_for_materials(case) -> bool:
    """The case waits for its materials at the window: its first step accepts
    them and is still open."""
    if case.state not in _WAITING_FOR_MATERIALS or not case.steps:
        return False
    run = case.steps[0]
    return run.kind == "accept" and run.open and bool(run.tasks)


def _still_concerns(case, direction: str | None) -> bool:
    if direction == MATERIALS:
        return _waiting_for_materials(case)
    return direction == RESULT and case.state == _APPROVED


_PHONE = re.compile(r"1[0-9]{10}")
_POSTCODE = re.compile(r"[0-9]{6}")
_ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "street", "postcode")


def _clean_address(address: Any) -> dict[str, str]:
    """A new address for EMS: every field, the postcode too (a waybill needs it)."""
    if not isinstance(address, Mapping):
        raise ValidationFailed({"address": "must be an object"})
    problems = {}
    clean = {}
    for name in _ADDRESS_FIELDS:
        value = address.get(name)
        if not isinstance(value, str) or not value.strip():
            problems[f"address.{name}"] = "is required"
        else:
            clean[name] = value.strip()
    if "phone" in clean and not _PHONE.fullmatch(clean["phone"]):
        problems["address.phone"] = "must be 11 digits starting with 1"
    if "postcode" in clean and not _POSTCODE.fullmatch(clean["postcode"]):
        problems["address.postcode"] = "must be 6 digits"
    if problems:
        raise ValidationFailed(problems)
    return clean
