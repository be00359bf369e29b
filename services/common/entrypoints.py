"""The doors of a service, written one way in every service.

An RPC method names its request and response schemas (from the service's
``contract``), takes the loaded request and returns what the use case returns::

    @rpc(request=contract.Register, response=contract.UserId)
    def register(self, request):
        return use_cases.register(self.uow, self.crypto, **request)

An event handler names the event and the schema of its payload (from the
producing service's contract)::

    @handles("ratings", "store_rating_changed", payload=ratings.StoreRatingChanged)
    def on_store_rating_changed(self, event):
        use_cases.record_store_rating(self.uow, event)

What the kit does for every entrypoint:

- RPC arguments are named, never positional, and loaded with the request schema:
  an unknown or bad argument is :class:`~services.common.errors.Invalid` naming
  it, before any use case runs. The answer is dumped with the response schema.
- An event's payload is loaded once with the producer's schema, fields the
  consumer does not know are ignored (a producer may add fields); a payload that
  does not load is ``Invalid`` and is dead-lettered at once. The handler gets the
  envelope with the loaded payload.
- Every :class:`~services.common.errors.ServiceError` is expected: it leaves as
  the shared type it derives from (so the caller's deserialiser knows it), with
  its message, fields and code, and nameko never logs it as an error.
"""

import functools

from marshmallow import EXCLUDE, Schema
from nameko.rpc import Rpc

import services.common.rpc  # noqa: F401  (a caller turns the shared errors back into types)
from services.common.errors import Invalid, ServiceError, shared_form
from services.common.messaging.consumer import EventHandler
from services.common.schemas import load, load_payload


def schema_instance(schema: Schema | type[Schema] | None) -> Schema | None:
    return schema() if isinstance(schema, type) else schema


def _as_shared(call):
    """``call()``, with a ServiceError subclass leaving as its shared type."""
    try:
        return call()
    except ServiceError as error:
        shared = shared_form(error)
        if shared is error:
            raise
        raise shared from error


class ContractRpc(Rpc):
    """nameko's RPC entrypoint, knowing its request and response schemas (so that
    the contract can be listed from the service class) and expecting every
    ServiceError."""

    def __init__(self, request: Schema | None = None, response: Schema | None = None, **kwargs):
        kwargs.setdefault("expected_exceptions", ServiceError)
        super().__init__(**kwargs)
        self.request = request
        self.response = response


def rpc(request: Schema | type[Schema] | None = None, response=None):
    """Make the decorated method an RPC method of the contract (see the module)."""
    request_schema = schema_instance(request)
    response_schema = schema_instance(response)

    def decorate(method):
        @functools.wraps(method)
        def entrypoint(self, **arguments):
            if request_schema is None:
                result = _as_shared(lambda: method(self, *_no_arguments(arguments)))
            else:
                result = _as_shared(lambda: method(self, load(request_schema, arguments)))
            return None if response_schema is None else response_schema.dump(result)

        return ContractRpc.decorator(request=request_schema, response=response_schema)(entrypoint)

    return decorate


def _no_arguments(arguments: dict) -> tuple:
    if arguments:
        raise Invalid("this method takes no arguments", dict.fromkeys(arguments, "Unknown field."))
    return ()


class ContractEventHandler(EventHandler):
    """The retrying, dead-lettering event handler, knowing its payload schema."""

    def __init__(self, source_service: str, event_type: str, payload: Schema | None = None):
        super().__init__(source_service, event_type)
        self.payload = payload


def handles(source: str, event_type: str, payload: Schema | type[Schema]):
    """Make the decorated method handle ``source``'s ``event_type`` events (see the module)."""
    payload_schema = schema_instance(payload)
    # A consumer takes what it knows of the producer's payload.
    reader = type(payload_schema)(unknown=EXCLUDE)

    def decorate(method):
        @functools.wraps(method)
        def entrypoint(self, envelope):
            return _as_shared(
                lambda: method(self, {**envelope, "payload": load_payload(reader, envelope)})
            )

        return ContractEventHandler.decorator(source, event_type, payload=payload_schema)(
            entrypoint
        )

    return decorate


def contract_entrypoints(service_cls) -> list[tuple[str, object]]:
    """``(method name, entrypoint)`` of every RPC method and event handler the kit
    made on ``service_cls``, by name."""
    found = []
    for name in sorted(dir(service_cls)):
        member = getattr(service_cls, name, None)
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, (ContractRpc, ContractEventHandler)):
                found.append((name, entrypoint))
    return found
