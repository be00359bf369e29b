"""Business counters of ratings kept by this process (gauges read from the
database are in ``service_layer.gauges``)."""

from prometheus_client import Counter

SMS_MESSAGES = Counter(
    "tongban_ratings_sms_messages",
    "Attempts to text a citizen, by outcome: sent, retried (the gateway could not"
    " be reached; tried again later) or failed (refused, or given up).",
    ["outcome"],
)
