"""marshmallow helpers every service's schemas use: loading with named errors,
and UTC instants on the wire."""

import datetime as dt
from collections.abc import Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.errors import Invalid
from services.common.messaging.envelope import isoformat_utc


def field_errors(messages, name: str = "") -> dict[str, str]:
    """Flatten marshmallow's nested messages to ``{"materials.0.name": "..."}``.

    Errors about a whole object (``_schema``) are named after the object, or
    ``_schema`` at the top.
    """
    if isinstance(messages, Mapping):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            child = name if key == "_schema" else (f"{name}.{key}" if name else str(key))
            flat.update(field_errors(value, child))
        return flat
    if isinstance(messages, (list, tuple)):
        texts = [message for message in messages if isinstance(message, str)]
        flat = {name or "_schema": " ".join(texts)} if texts else {}
        for message in messages:
            if not isinstance(message, str):
                flat.update(field_errors(message, name))
        return flat
    return {name or "_schema": str(messages)}


def load(schema: Schema | type[Schema], data, name: str = ""):
    """Load ``data`` or raise Invalid naming every bad field (under ``name``)."""
    if isinstance(schema, type):
        schema = schema()
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Invalid("invalid input", field_errors(error.messages, name)) from None


def load_payload(schema: Schema | type[Schema], envelope) -> dict:
    """A consumed event's payload, loaded; Invalid names the bad ``payload.*`` fields
    (the consumer then dead-letters the event for an operator)."""
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("payload"), Mapping):
        raise Invalid("not an event envelope", {"payload": "is required"})
    try:
        return load(schema, envelope["payload"], name="payload")
    except Invalid as error:
        raise Invalid(f"bad {envelope.get('type')} payload", error.fields) from None


class Instant(fields.DateTime):
    """A UTC instant: ISO 8601 in (a value without an offset is taken as UTC),
    ``2026-11-25T08:00:00Z`` out."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else isoformat_utc(value)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


ACTOR_KINDS = ("citizen", "staff", "operator")


class ActorSchema(Schema):
    """The caller as the gateway saw its verified token; every command takes one."""

    class Meta:
        unknown = EXCLUDE

    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(ACTOR_KINDS))
    roles = fields.List(fields.String(), load_default=list)
    department_code = fields.String(allow_none=True, load_default=None)
    name = fields.String(allow_none=True, load_default=None)
    level = fields.Integer(allow_none=True, load_default=None)
