"""Fees paid online: the use cases between a case's payment (domain.payment) and
the payment platform (adapters.payment).

Each talks to the platform outside any transaction, then applies the answer in
one transaction with the case locked, only if the payment still is where it
was: repeating any of them changes nothing. A call that fails (the platform
down, a source of the waiver's facts down) leaves the payment as it was, and
:func:`sweep_payments` tries again; nothing is lost or done twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from services.common import clock, rules
from services.common.errors import ServiceError
from services.workflow.domain import exceptions as domain
from services.workflow.domain.model import CHINA_TZ, Application, local_date
from services.workflow.domain.payment import (
    CANCELLING,
    ORDERING,
    PENDING,
    REFUNDING,
    waivable_fen,
)
from services.workflow.service_layer.facts import FactsUnavailable, UnknownFact
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.service_layer.use_cases import _commit, _licence_numbers

log = logging.getLogger(__name__)

PAID = "paid"


class Orders(Protocol):
    """What these use cases need of ``adapters.payment.PaymentClient``; failures
    are the shared error types (PaymentUnavailable, PaymentRejected)."""

    def create_order(
        self,
        idempotency_key: str,
        *,
        reference: str,
        amount_fen: int,
        description: str,
        expires_at: datetime,
    ) -> dict[str, Any]: ...

    def orders_of(self, reference: str) -> list[dict[str, Any]]: ...

    def cancel_order(self, order_id: str) -> dict[str, Any]: ...

    def refund(
        self, order_id: str, amount_fen: int, idempotency_key: str, reason: str
    ) -> dict[str, Any]: ...


# gather(facts, case, today) -> {fact: value}; FactsUnavailable when a source
# cannot answer (service.WorkflowService._gather).
Gather = Callable[[set[str], Application, date], dict[str, Any]]


def order_key(application_id: str, step_id: str) -> str:
    """The idempotency key of a case's order: one order per payment step."""
    return f"order.{application_id}.{step_id}"


def request_payment(
    uow: WorkflowUnitOfWork,
    application_id: str,
    orders: Orders,
    gather: Gather,
    *,
    now: datetime | None = None,
) -> str | None:
    """The payment step of the case opened: apply the item's fee waiver (its
    rule over the facts) to the waivable fees, then either pass the step
    (nothing left to pay: ``waived``) or have the platform make the order
    (``ordered``). None when the order was made already. Raises what the
    platform or a source of facts raised (the sweep tries again)."""
    now = now or clock.now()
    today = local_date(now)
    with uow:
        application = uow.applications.get(application_id)
    payment = application.payment_to_order() if application is not None else None
    if payment is None:
        return None
    waiver = fee_waiver(application, payment.fees, today, gather)
    amount = payment.amount_fen - (waiver["waived_fen"] if waiver else 0)
    if amount <= 0:
        with uow:
            calendar = uow.calendar.load()
            application = uow.applications.get(application_id, for_update=True)
            if application.payment_to_order() is None:
                uow.commit()
                return None
            application.payment_not_due(
                waiver,
                calendar=calendar,
                licence_numbers=_licence_numbers(uow, application_id),
                now=now,
            )
            _save(uow, application)
        return "waived"
    order = orders.create_order(
        order_key(application_id, payment.step_id),
        reference=application_id,
        amount_fen=amount,
        description=application.item_name,
        expires_at=_end_of(payment.due_on),
    )
    with uow:
        application = uow.applications.get(application_id, for_update=True)
        changed = application.payment_ordered(
            order["order_id"], str(order.get("pay_url") or ""), amount, waiver, now=now
        )
        if changed:
            _save(uow, application)
        else:
            uow.commit()
    log.info(
        "payment ordered",
        extra={"application_id": application_id, "order_id": order["order_id"], "fen": amount},
    )
    return "ordered"


def fee_waiver(
    application: Application, fees: list[dict], today: date, gather: Gather
) -> dict[str, Any] | None:
    """``{description, waived_fen}`` when the item's fee waiver rule holds for
    the case, None when it has none, covers no fee or does not hold (a fact
    without a value is not proof of the right to a waiver). FactsUnavailable
    when a source cannot answer."""
    waiver = application.fee_waiver
    waivable = waivable_fen(fees)
    if not waiver or waivable <= 0:
        return None
    rule = waiver["rule"]
    try:
        facts = gather(rules.facts_of(rule), application, today)
    except UnknownFact as unknown:
        # The catalogue's rule names a fact nobody gathers: asking again cannot
        # help, and a waiver is granted on proof only.
        log.warning(
            "fee waiver names unknown facts; not applied",
            extra={"application_id": application.application_id, "facts": unknown.names},
        )
        return None
    if rules.evaluate(rule, facts):
        return None
    return {"description": waiver.get("description") or "", "waived_fen": waivable}


def record_payment(
    uow: WorkflowUnitOfWork,
    order_id: str,
    reference: str,
    state: str,
    amount_fen: int,
    event: str = "",
    occurred_at: str = "",
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The platform's notice that order ``order_id`` of case ``reference`` is
    paid: the case's payment step passes and the case moves on (a case that
    ended meanwhile refunds it). Repeats change nothing. NotFound for an order
    that is not the case's; a notice of any other state is ignored."""
    now = now or clock.now()
    if state != PAID:
        return {"status": "ignored"}
    with uow:
        calendar = uow.calendar.load()
        application = uow.applications.get(reference, for_update=True)
        if application is None:
            raise domain.NotFound(f"application {reference} not found")
        changed = application.payment_received(
            order_id,
            amount_fen,
            calendar=calendar,
            licence_numbers=_licence_numbers(uow, reference),
            now=now,
        )
        if changed:
            _save(uow, application)
        else:
            uow.commit()
    return {"status": "ok" if changed else "repeated"}


def settle_payment(
    uow: WorkflowUnitOfWork, application_id: str, orders: Orders, *, now: datetime | None = None
) -> str | None:
    """Cancel the order of a case that ended unpaid, or refund the payment of
    one that ended otherwise than approved; what was done, None when nothing
    was to be done. Raises what the platform raised (the sweep tries again)."""
    now = now or clock.now()
    with uow:
        application = uow.applications.get(application_id)
    payment = application.payment if application is not None else None
    if payment is None:
        return None
    if payment.state == CANCELLING:
        return _cancel(uow, application, orders, now)
    if payment.state == REFUNDING:
        refund = orders.refund(
            payment.order_id,
            payment.amount_fen,
            f"refund.{payment.order_id}",
            f"{application.item_name}: the case ended {application.state}",
        )
        with uow:
            application = uow.applications.get(application_id, for_update=True)
            if application.payment_refunded(refund["refund_id"], now=now):
                _save(uow, application)
            else:
                uow.commit()
        log.info(
            "payment refunded",
            extra={"application_id": application_id, "order_id": payment.order_id},
        )
        return "refunded"
    return None


def _cancel(uow, application: Application, orders: Orders, now: datetime) -> str:
    application_id = application.application_id
    order_ids = [application.payment.order_id] if application.payment.order_id else []
    if not order_ids:
        # The case ended while its order was being made: any the platform
        # made under its key is cancelled too.
        order_ids = [order["order_id"] for order in orders.orders_of(application_id)]
    paid = None
    for order_id in order_ids:
        order = orders.cancel_order(order_id)
        if order["state"] == PAID:
            paid = order
    with uow:
        calendar = uow.calendar.load()
        application = uow.applications.get(application_id, for_update=True)
        if paid is not None:
            # Paid just before it was cancelled: recorded, then refunded.
            application.payment_ordered(
                paid["order_id"], str(paid.get("pay_url") or ""), paid["amount_fen"], now=now
            )
            application.payment_received(
                paid["order_id"],
                paid["amount_fen"],
                calendar=calendar,
                licence_numbers=_licence_numbers(uow, application_id),
                now=now,
            )
        else:
            application.payment_cancelled(now=now)
        _save(uow, application)
    return "paid" if paid is not None else "cancelled"


def expire_payment(
    uow: WorkflowUnitOfWork, application_id: str, today: date, *, now: datetime | None = None
) -> bool:
    """End the case whose order was not paid in time (taken as withdrawn); its
    order is then cancelled. True when it ended."""
    with uow:
        application = uow.applications.get(application_id, for_update=True)
        if application is None or not application.expire_payment(today, now=now):
            uow.commit()
            return False
        _save(uow, application)
    return True


def sweep_payments(
    uow: WorkflowUnitOfWork,
    orders: Orders,
    gather: Gather,
    today: date,
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Everything the payments still need: orders to make, orders not paid in
    time (their cases end), orders to cancel and payments to refund. A case
    whose call fails is left for the next sweep. Answers what was done, by kind."""
    with uow:
        todo = uow.payments.to_settle(today)
    done: dict[str, int] = {}
    for application_id, state in todo:
        try:
            if state == ORDERING:
                outcome = request_payment(uow, application_id, orders, gather, now=now)
            elif state == PENDING:
                outcome = "expired" if expire_payment(uow, application_id, today, now=now) else None
                if outcome:
                    settle_payment(uow, application_id, orders, now=now)
            else:
                outcome = settle_payment(uow, application_id, orders, now=now)
        except (ServiceError, FactsUnavailable, OSError) as error:
            log.warning(
                "payment left for the next sweep",
                extra={"application_id": application_id, "state": state, "error": str(error)},
            )
            continue
        except Exception:
            # One case's fault must not hold up every other payment.
            log.exception(
                "payment sweep failed on a case",
                extra={"application_id": application_id, "state": state},
            )
            continue
        if outcome:
            done[outcome] = done.get(outcome, 0) + 1
    return done


def _save(uow: WorkflowUnitOfWork, application: Application) -> None:
    uow.applications.save(application)
    uow.collect(application)
    _commit(uow)


def _end_of(day: date) -> datetime:
    """The last instant of a Jiangsu calendar day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ) - timedelta(
        seconds=1
    )


def on_payment_step_started(
    uow: WorkflowUnitOfWork, envelope, orders: Orders, gather: Gather
) -> str | None:
    """``payment_step_started``: order at once; a failure is logged and left for
    the payment sweep (the event is not retried: the sweep is the retry)."""
    return _or_later(
        envelope, lambda application_id: request_payment(uow, application_id, orders, gather)
    )


def on_payment_settlement_due(uow: WorkflowUnitOfWork, envelope, orders: Orders) -> str | None:
    """``payment_settlement_due``: cancel or refund at once, else at the sweep."""
    return _or_later(envelope, lambda application_id: settle_payment(uow, application_id, orders))


def _or_later(envelope, attempt) -> str | None:
    application_id = envelope["payload"]["application_id"]
    try:
        return attempt(application_id)
    except (ServiceError, FactsUnavailable, OSError) as error:
        log.warning(
            "payment left for the payment sweep",
            extra={"application_id": application_id, "error": str(error)},
        )
        return None
