"""``dump(schema, obj)``: what ``schema.dump(obj)`` answers, for less CPU.

marshmallow reads every field's value through four calls (``Field.serialize``,
``Field.get_value``, ``Schema.get_attribute``, ``utils.get_value``) before the
field's own conversion (``Field._serialize``) runs, and a nested schema goes
through ``Schema.dump`` again. An RPC answer of a whole case (a workflow
``Application``: its steps, timeline, materials) is a few hundred fields, and
that reading was most of its dump.

Here a schema's fields are listed once, with what each reads, and a dump reads
each value with one lookup, then calls the field's own ``_serialize``, so
every value is converted as marshmallow converts it. A nested schema, alone or
in a list, is dumped the same way. Whatever marshmallow does differently is
left to marshmallow: a schema with dump hooks or its own ``get_attribute``, a
field whose ``serialize`` or ``get_value`` is its own (``Method``,
``Function``, ``Constant``, ``Pluck``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import _get_value_for_key

# Schema instance -> its dumper, None when marshmallow dumps it.
_DUMPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def dump(schema: Schema, obj: Any, *, many: bool = False) -> Any:
    """``schema.dump(obj, many=many)``."""
    dumper = _dumper_of(schema)
    if dumper is None:
        return schema.dump(obj, many=many or None)
    if many and not schema.many and obj is not None:
        return [dumper(each) for each in obj]
    return dumper(obj)


def _dumper_of(schema: Schema) -> Callable[[Any], Any] | None:
    try:
        return _DUMPERS[schema]
    except KeyError:
        dumper = _DUMPERS[schema] = _dumper(schema)
        return dumper


def _dumper(schema: Schema) -> Callable[[Any], Any] | None:
    if (
        schema._hooks[PRE_DUMP]
        or schema._hooks[POST_DUMP]
        or type(schema).get_attribute is not Schema.get_attribute
    ):
        return None
    plan = [_read(name, field) for name, field in schema.dump_fields.items()]
    if any(step is None for step in plan):
        return None
    dict_class = schema.dict_class

    def one(obj):
        out = dict_class()
        plain = type(obj) is dict
        # marshmallow asks this of every field; the answer is the object's.
        indexed = plain or hasattr(obj, "__getitem__")
        for key, name, attr, path, default, convert in plan:
            if path is not None:
                value = obj
                for part in path:
                    value = _get_value_for_key(value, part, missing)
            elif plain:
                value = obj[attr] if attr in obj else getattr(obj, attr, missing)
            elif not indexed:
                value = getattr(obj, attr, missing)
            else:
                value = _get_value_for_key(obj, attr, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = convert(value, name, obj)
        return out

    if schema.many:
        # As marshmallow: None dumped as one object (its defaults, if any).
        return lambda obj: one(obj) if obj is None else [one(each) for each in obj]
    return one


def _read(name: str, field: fields.Field):
    """(key, name, attribute read, its parts when dotted, dump default,
    conversion) of a field marshmallow reads the plain way; None for one it
    reads its own way."""
    kind = type(field)
    if (
        not field._CHECK_ATTRIBUTE
        or kind.serialize is not fields.Field.serialize
        or kind.get_value is not fields.Field.get_value
    ):
        return None
    attr = name if field.attribute is None else field.attribute
    # A dotted attribute is read a part at a time, as marshmallow reads it.
    path = tuple(attr.split(".")) if "." in attr else None
    key = field.data_key if field.data_key is not None else name
    return key, name, attr, path, field.dump_default, _conversion(field)


def _conversion(field: fields.Field) -> Callable[[Any, str, Any], Any]:
    """``field._serialize``, with a nested schema (alone or in a list) dumped
    by its own dumper."""
    kind = type(field)
    if kind is fields.Nested:
        return _nested(field)
    if kind is fields.List and type(field.inner) is fields.Nested:
        inner = _nested(field.inner)

        def each(value, attr, obj):
            if value is None:
                return None
            return [inner(item, attr, obj) for item in value]

        return each
    return field._serialize


def _nested(field: fields.Nested) -> Callable[[Any, str, Any], Any]:
    def nested(value, attr, obj):
        schema = field.schema
        if value is None:
            return None
        # As Nested._serialize: many when the schema or the field says so.
        return dump(schema, value, many=field.many)

    return nested
