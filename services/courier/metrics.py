"""Business counters of the courier, by direction (materials or result)."""

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
