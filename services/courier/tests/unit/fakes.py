"""A stand-in for EmsClient that books waybills in memory."""

from services.courier.adapters.ems import EmsUnavailable
from services.courier.domain.tracking_numbers import make_tracking_number


class FakeEms:
    """Same key, same waybill, as EMS does. ``available = False`` makes every
    call fail the way an unreachable EMS does."""

    def __init__(self):
        self.available = True
        self.calls: list[dict] = []
        self.orders: dict[str, str] = {}

    def create_order(self, idempotency_key, sender, recipient, reference, kind):
        self.calls.append(
            {
                "idempotency_key": idempotency_key,
                "sender": sender,
                "recipient": recipient,
                "reference": reference,
                "kind": kind,
            }
        )
        if not self.available:
            raise EmsUnavailable("EMS POST /api/orders failed: connection refused")
        if idempotency_key not in self.orders:
            self.orders[idempotency_key] = make_tracking_number(10_000_000 + len(self.orders))
        return {"tracking_no": self.orders[idempotency_key], "status": "created"}
