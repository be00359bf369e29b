"""Fees paid online (网上支付): the case's payment, from the order to the refund.

An item's fees (``ItemSnapshot.fees``: ``{name, amount_fen, standard, legal_basis,
waivable}``, amounts in fen, exact integers) are paid at the process's
``payment`` step. A process may place one itself; an item with fees whose
process has none gets one after its last step, so the fees are paid once the
case is decided and before its licence is issued (``process.with_payment``).

The step opens with the payment ``ordering`` and the clock stopped (the case
waits on the applicant, as for a supplement; the due dates move by the working
days it stood still once paid), and records :class:`PaymentStepStarted`. The
instance that owns the case then, outside the case's transaction, checks the
item's fee waiver rule (``fee_waiver.rule`` over the facts module's facts; a
waiver covers the ``waivable`` fees) and creates the order at the payment
platform; one transaction records the order (``pending``, with the cashier's pay
URL) or, nothing being left to pay, passes the step (``waived``).

The platform's signed notice that the order was paid passes the step (``paid``,
the clock runs again, the case moves on). A case that ends otherwise settles
its payment: a paid one is refunded (``refunding`` -> ``refunded``), an order
not paid is cancelled (``cancelling`` -> ``cancelled``). An order not paid by
``due_on`` (the step's ``days`` calendar days) is taken as the applicant
withdrawing (逾期未缴费视为撤回申请): the case ends ``withdrawn`` and its order
is cancelled. A notice of a payment made after its case ended is refunded.

Every call to the platform happens outside a transaction and is repeated by
the payment sweep until it succeeds; each is idempotent there (idempotency keys)
and here (the state says what is done).

Plain Python, mixed into ``model.Application``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.common.working_calendar import WorkingCalendar

from .events import (
    ApplicationWithdrawn,
    PaymentReceived,
    PaymentRefunded,
    PaymentRequested,
    PaymentSettlementDue,
    PaymentStepStarted,
)
from .exceptions import InvalidTransition, NotFound, ValidationFailed
from .progress import StepRun, StepState, _date, _instant, _iso

ORDERING = "ordering"  # the step opened; no order yet
PENDING = "pending"  # ordered: the applicant may pay at the cashier
PAID = "paid"
WAIVED = "waived"  # nothing left to pay (waived, or no fee at all)
CANCELLING = "cancelling"  # the case ended unpaid: the order is to be cancelled
CANCELLED = "cancelled"
REFUNDING = "refunding"  # paid, and the case ended otherwise: to be refunded
REFUNDED = "refunded"
STATES = (ORDERING, PENDING, PAID, WAIVED, CANCELLING, CANCELLED, REFUNDING, REFUNDED)
# What the payment sweep still has to do with the platform.
UNSETTLED = (ORDERING, CANCELLING, REFUNDING)
NOT_PAID_COMMENT = "逾期未缴费，视为撤回申请"


def total_fen(fees: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(fee["amount_fen"]) for fee in fees)


def waivable_fen(fees: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(fee["amount_fen"]) for fee in fees if fee.get("waivable"))


def yuan(fen: int) -> str:
    """``12345`` -> ``"123.45"``, exactly (no float)."""
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class Payment:
    """The case's payment. ``amount_fen`` is what the applicant pays, after a
    waiver (``waiver``: ``{description, waived_fen}``); ``fees`` the item's fees
    as the case keeps them; ``due_on`` the last calendar day to pay."""

    step_id: str
    state: str
    amount_fen: int
    fees: list[dict[str, Any]]
    due_on: date
    started_at: datetime
    order_id: str | None = None
    pay_url: str | None = None
    waiver: dict[str, Any] | None = None
    ordered_at: datetime | None = None
    paid_at: datetime | None = None
    refund_id: str | None = None
    refunded_at: datetime | None = None
    settled_at: datetime | None = None

    @property
    def due(self) -> bool:
        """The applicant may pay now."""
        return self.state == PENDING

    def to_dict(self) -> dict[str, Any]:
        return {
            "step_id": self.step_id,
            "state": self.state,
            "amount_fen": self.amount_fen,
            "fees": [dict(fee) for fee in self.fees],
            "due_on": _iso(self.due_on),
            "started_at": _iso(self.started_at),
            "order_id": self.order_id,
            "pay_url": self.pay_url,
            "waiver": self.waiver,
            "ordered_at": _iso(self.ordered_at),
            "paid_at": _iso(self.paid_at),
            "refund_id": self.refund_id,
            "refunded_at": _iso(self.refunded_at),
            "settled_at": _iso(self.settled_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Payment | None:
        if not data:
            return None
        return cls(
            step_id=data["step_id"],
            state=data["state"],
            amount_fen=int(data["amount_fen"]),
            fees=[dict(fee) for fee in data.get("fees") or ()],
            due_on=_date(data["due_on"]),
            started_at=_instant(data["started_at"]),
            order_id=data.get("order_id"),
            pay_url=data.get("pay_url"),
            waiver=data.get("waiver"),
            ordered_at=_instant(data.get("ordered_at")),
            paid_at=_instant(data.get("paid_at")),
            refund_id=data.get("refund_id"),
            refunded_at=_instant(data.get("refunded_at")),
            settled_at=_instant(data.get("settled_at")),
        )


class Payments:
    """The payment of an ``Application`` (mixed into it)."""

    # ------------------------------------------------------------ the step

    def _start_payment(self, run: StepRun, days: int, on: date, now: datetime) -> None:
        """Open the payment step: the clock stops until the applicant pays."""
        run.tasks = []
        run.due_date = None
        self.payment = Payment(
            step_id=run.id,
            state=ORDERING,
            amount_fen=total_fen(self.fees),
            fees=[dict(fee) for fee in self.fees],
            due_on=on + timedelta(days=days),
            started_at=now,
        )
        if self.clock.running:
            self.clock.stop(on, "payment")
        self.events.append(PaymentStepStarted(application_id=self.application_id, step_id=run.id))

    def payment_to_order(self) -> Payment | None:
        """The payment whose order is still to be made (the step is open)."""
        payment = self.payment
        if payment is None or payment.state != ORDERING:
            return None
        return payment

    def payment_ordered(
        self,
        order_id: str,
        pay_url: str,
        amount_fen: int,
        waiver: Mapping[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> bool:
        """The platform made the order: the applicant may pay. A case that ended
        meanwhile keeps the order to cancel it. False for an order recorded already."""
        payment = self._require_payment()
        if payment.order_id is not None:
            return False
        if payment.state not in (ORDERING, CANCELLING):
            return False
        now = model._aware(now)
        payment.order_id = order_id
        payment.pay_url = pay_url
        payment.ordered_at = now
        payment.amount_fen = int(amount_fen)
        payment.waiver = dict(waiver) if waiver else None
        if payment.state == CANCELLING:
            return True
        payment.state = PENDING
        comment = f"应缴 {yuan(amount_fen)} 元，{payment.due_on.isoformat()} 前缴纳"
        if waiver:
            comment += f"（减免 {yuan(int(waiver['waived_fen']))} 元: {waiver['description']}）"
        self._log(now, "request_payment", None, model.Role.SYSTEM, comment, step=payment.step_id)
        self.events.append(
            PaymentRequested(
                application_id=self.application_id, order_id=order_id, amount_fen=amount_fen
            )
        )
        return True

    def payment_not_due(
        self,
        waiver: Mapping[str, Any] | None,
        *,
        calendar: WorkingCalendar,
        licence_numbers: model.LicenceNumbers,
        now: datetime | None = None,
    ) -> None:
        """Nothing is left to pay (the waiver covers every fee, or there is none):
        the step passes, the waiver recorded, and the case moves on."""
        payment = self.payment_to_order()
        run = self._payment_run()
        if payment is None or run is None:
            raise InvalidTransition("no payment is waiting for its order")
        now = model._aware(now)
        payment.state = WAIVED
        payment.amount_fen = 0
        payment.waiver = dict(waiver) if waiver else None
        payment.settled_at = now
        self._restart_clock(model.local_date(now), calendar)
        self._pass(run, now)
        comment = f"减免: {waiver['description']}" if waiver else "无需缴费"
        self._log(now, "waive_payment", None, model.Role.SYSTEM, comment, step=run.id)
        self._advance(model.local_date(now), calendar, licence_numbers, now)
        self._settle_escalations(now)

    def payment_received(
        self,
        order_id: str,
        amount_fen: int,
        *,
        calendar: WorkingCalendar,
        licence_numbers: model.LicenceNumbers,
        now: datetime | None = None,
    ) -> bool:
        """The platform reports ``order_id`` paid. An open case's step passes:
        the clock runs again (the due dates move by the working days it waited)
        and the case moves on; a case that ended meanwhile refunds it. False for
        a repeated notice."""
        payment = self._require_payment()
        if payment.order_id != order_id:
            raise NotFound(f"order {order_id} is not this case's")
        if amount_fen != payment.amount_fen:
            raise ValidationFailed(
                {"amount_fen": f"the order is for {payment.amount_fen} fen, not {amount_fen}"}
            )
        if payment.state in (PAID, REFUNDING, REFUNDED):
            return False
        if payment.state not in (PENDING, CANCELLING, CANCELLED):
            raise InvalidTransition(f"a payment that is {payment.state} cannot be paid")
        now = model._aware(now)
        payment.paid_at = now
        self.events.append(
            PaymentReceived(
                application_id=self.application_id, order_id=order_id, amount_fen=amount_fen
            )
        )
        run = self._payment_run()
        if payment.state != PENDING or run is None:
            # Paid after the case ended (or after its order was given up).
            payment.state = REFUNDING
            payment.settled_at = None
            self._log(now, "payment_late", None, model.Role.SYSTEM, "", step=payment.step_id)
            self.events.append(
                PaymentSettlementDue(application_id=self.application_id, action="refund")
            )
            return True
        payment.state = PAID
        self._restart_clock(model.local_date(now), calendar)
        self._pass(run, now)
        self._log(
            now,
            "pay",
            self.applicant_id,
            model.Role.APPLICANT,
            f"已缴 {yuan(amount_fen)} 元",
            step=run.id,
        )
        self._advance(model.local_date(now), calendar, licence_numbers, now)
        self._settle_escalations(now)
        return True

    def expire_payment(self, today: date, *, now: datetime | None = None) -> bool:
        """End the case when its order was not paid by ``due_on`` (taken as the
        applicant withdrawing); True when it did. A payment whose order could
        not be made yet never expires: the applicant had nothing to pay."""
        payment = self.payment
        if payment is None or payment.state != PENDING:
            return False
        if self._payment_run() is None or today <= payment.due_on:
            return False
        now = model._aware(now)
        self.events.append(ApplicationWithdrawn(application_id=self.application_id))
        self._end(
            model.State.WITHDRAWN,
            now,
            "not_paid",
            None,
            model.Role.SYSTEM,
            NOT_PAID_COMMENT,
            step=payment.step_id,
        )
        return True

    # ------------------------------------------------------------ settling

    def _settle_payment(self, now: datetime) -> None:
        """The case ended without approval: a paid payment is to be refunded,
        an order not paid to be cancelled."""
        payment = self.payment
        if payment is None:
            return
        if payment.state == PAID:
            payment.state = REFUNDING
            action = "refund"
        elif payment.state in (ORDERING, PENDING):
            payment.state = CANCELLING
            action = "cancel"
        else:
            return
        self.events.append(PaymentSettlementDue(application_id=self.application_id, action=action))

    def payment_cancelled(self, *, now: datetime | None = None) -> bool:
        """The platform cancelled the order (or there never was one)."""
        payment = self._require_payment()
        if payment.state != CANCELLING:
            return False
        payment.state = CANCELLED
        payment.settled_at = model._aware(now)
        return True

    def payment_refunded(self, refund_id: str, *, now: datetime | None = None) -> bool:
        """The platform refunded the payment; False when it was recorded already."""
        payment = self._require_payment()
        if payment.state == REFUNDED:
            return False
        if payment.state != REFUNDING:
            raise InvalidTransition(f"a payment that is {payment.state} is not refunded")
        now = model._aware(now)
        payment.state = REFUNDED
        payment.refund_id = refund_id
        payment.refunded_at = now
        payment.settled_at = now
        self._log(
            now,
            "refund",
            None,
            model.Role.SYSTEM,
            f"已退 {yuan(payment.amount_fen)} 元",
            step=payment.step_id,
        )
        self.events.append(
            PaymentRefunded(
                application_id=self.application_id,
                order_id=payment.order_id or "",
                amount_fen=payment.amount_fen,
            )
        )
        return True

    # ------------------------------------------------------------ helpers

    def _payment_actions(self, actor: Mapping[str, Any]) -> list[dict[str, str | None]]:
        payment = self.payment
        if (
            payment is not None
            and payment.due
            and self.state in model.OPEN_CASE_STATES
            and self._is_applicant(actor)
        ):
            return [{"action": "pay", "step": payment.step_id}]
        return []

    def _payment_run(self) -> StepRun | None:
        """The open payment step of an open case."""
        if self.payment is None or self.state not in model.OPEN_CASE_STATES:
            return None
        return next(
            (
                run
                for run in self.steps
                if run.id == self.payment.step_id and run.state == StepState.ACTIVE
            ),
            None,
        )

    def _require_payment(self) -> Payment:
        if self.payment is None:
            raise NotFound(f"application {self.application_id} has no payment")
        return self.payment


# Last: model imports this module to build Application on it, and the methods
# above use model's helpers only when called.
from . import model  # noqa: E402
