"""The event envelope that every tongban event travels in.

Body of the AMQP message (JSON)::

    {"id": "...", "type": "application_submitted", "source": "workflow",
     "occurred_at": "2026-11-25T08:00:00Z", "correlation_id": "...",
     "schema_version": 1, "payload": {...}}

It is published to the exchange ``<source>.events`` with routing key ``type``, the
way nameko's own event dispatcher does, so a plain nameko ``@event_handler`` can
consume it (it receives the whole envelope).
"""

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def isoformat_utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json_ready(value):
    """Turn dataclasses, dates, enums and decimals into JSON-ready values."""
    kind = type(value)
    if kind in _PLAIN:  # exactly these: a str or int enum is converted below
        return value
    if kind is dict:
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if kind is list:
        return [to_json_ready(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json_ready(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_ready(v) for v in value]
    if isinstance(value, dt.datetime):
        return isoformat_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def event_type_of(event) -> str:
    event_type = getattr(event, "type", None)
    if not isinstance(event_type, str) or not event_type:
        raise TypeError(f"{event!r} has no event type")
    return event_type


def make_envelope(
    source: str,
    event_type: str,
    payload: dict,
    correlation_id: str | None = None,
    schema_version: int = 1,
    event_id: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict:
    return {
        "id": event_id or uuid.uuid4().hex,
        "type": event_type,
        "source": source,
        "occurred_at": isoformat_utc(occurred_at or utcnow()),
        "correlation_id": correlation_id or uuid.uuid4().hex,
        "schema_version": schema_version,
        "payload": to_json_ready(payload),
    }


def envelope_for(source: str, event, correlation_id: str | None = None) -> dict:
    """Wrap a domain event (a dataclass with a ``type``) in an envelope."""
    payload = to_json_ready(event)
    payload.pop("type", None)
    # A field whose wire name is taken by the class attribute ``type``.
    for name, wire_name in getattr(event, "wire_names", {}).items():
        payload[wire_name] = payload.pop(name)
    return make_envelope(
        source,
        event_type_of(event),
        payload,
        correlation_id=correlation_id,
        schema_version=getattr(event, "schema_version", 1),
    )
