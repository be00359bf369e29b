"""marshmallow pieces every service's contract uses: loading with named errors,
UTC instants on the wire, the actor, and pages.

Conventions of a contract (``services/<name>/contract.py``), which the OpenAPI
document and the contract tests rely on:

- a request schema refuses unknown fields (marshmallow's default) and checks
  the shape of every field; the domain checks the rules again and names the field;
- a response schema names exactly the fields sent: ``required=True`` on those
  always present, ``allow_none=True`` on those that may be null; unknown fields
  are refused, which the OpenAPI document states as ``additionalProperties: false``;
- an event payload schema names the fields the producer sends; consumers load it
  ignoring what they do not know.
"""

import datetime as dt
import re
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
    """A consumed event's payload, loaded; Invalid names the bad ``payload.*`` fields,
    or the envelope's ``id`` or ``payload`` when they are missing (the consumer
    then dead-letters the event for an operator)."""
    if not isinstance(envelope, Mapping):
        raise Invalid("not an event envelope", {"payload": "is required"})
    missing = {}
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        missing["id"] = "is required"
    if not isinstance(envelope.get("payload"), Mapping):
        missing["payload"] = "is required"
    if missing:
        raise Invalid("not an event envelope", missing)
    try:
        return load(schema, envelope["payload"], name="payload")
    except Invalid as error:
        raise Invalid(f"bad {envelope.get('type')} payload", error.fields) from None


# Ids in a path are 1..128 characters (the gateway refuses longer ones): any such
# id is then known or 404, never a 422 that the route does not document.
PATH_ID_MAX = 128


class FullMatch(validate.Regexp):
    """A pattern the whole value must match. Python's ``$`` also matches before a
    final newline, JSON Schema's does not: ``"13900000001\n"`` is refused here as
    the OpenAPI document says."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Boolean(fields.Boolean):
    """JSON ``true`` or ``false`` only; marshmallow's own takes ``1`` and ``"yes"``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


_DIGITS = re.compile(r"[0-9]{1,9}")


class WholeNumber(fields.Integer):
    """A whole number, also as a string of ASCII digits (query values arrive as
    text); never a bool, a fraction, a float or other scripts' digits."""

    default_error_messages = {"invalid": "must be a whole number"}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


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


class OffsetInstant(Instant):
    """An instant that names its offset (``Z`` or ``+08:00``); a time without one
    is ambiguous and refused. UTC out."""

    default_error_messages = {"naive": "must carry a UTC offset"}

    def _deserialize(self, value, attr, data, **kwargs):
        moment = fields.DateTime._deserialize(self, value, attr, data, **kwargs)
        if moment.tzinfo is None:
            raise self.make_error("naive")
        return moment.astimezone(dt.UTC)


MAX_PAGE = 10_000  # deeper pages are a scraper, not a reader
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class PageQuery(Schema):
    """``page`` 1..10000, ``page_size`` 1..100, whole numbers (query strings
    arrive as text: ``"2"`` is 2; ``""``, ``"1.5"`` and ``2.0`` are refused)."""

    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = WholeNumber(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


_pages: dict[type, type] = {}
_collections: dict[type, type] = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """``{"items": [...], "page", "page_size", "total"}``: one page of a list."""
    if item_schema not in _pages:
        _pages[item_schema] = type(
            f"{item_schema.__name__}Page",
            (Schema,),
            {
                # Part of the item's contract.
                "__module__": item_schema.__module__,
                "__doc__": f"One page of {item_schema.__name__} entries, and how many there are.",
                "items": fields.List(fields.Nested(item_schema), required=True),
                "page": fields.Integer(required=True),
                "page_size": fields.Integer(required=True),
                "total": fields.Integer(required=True),
            },
        )
    return _pages[item_schema]


def collection_of(item_schema: type[Schema]) -> type[Schema]:
    """``{"items": [...]}``: a whole (short) list."""
    if item_schema not in _collections:
        _collections[item_schema] = type(
            f"{item_schema.__name__}List",
            (Schema,),
            {
                "__module__": item_schema.__module__,
                "__doc__": f"Every {item_schema.__name__} entry.",
                "items": fields.List(fields.Nested(item_schema), required=True),
            },
        )
    return _collections[item_schema]


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
