"""Business counters of the courier: shipments by direction (materials or
result), and the attempts at placing EMS orders by outcome."""

from prometheus_client import Counter

SHIPMENTS_CREATED = Counter(
    "tongban_courier_shipments_created",
    "EMS shipments booked, by direction.",
    ["direction"],
)
SHIPMENTS_DELIVERED = Counter(
    "tongban_courier_shipments_delivered",
    "EMS shipments delivered, by direction.",
    ["direction"],
)
SHIPMENTS_FAILED = Counter(
    "tongban_courier_shipments_failed",
    "EMS shipments that failed, by direction.",
    ["direction"],
)
EMS_ORDER_ATTEMPTS = Counter(
    "tongban_courier_ems_order_attempts",
    "Attempts at placing an EMS order, by outcome: placed, retried (EMS did not"
    " answer), gave_up (its retry window ended), rejected (EMS refused it).",
    ["outcome"],
)
