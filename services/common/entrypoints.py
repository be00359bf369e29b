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
import inspect
import logging
import sys
import time

import amqp
import kombu
from eventlet.queue import LightQueue
from kombu import serialization
from marshmallow import EXCLUDE, Schema
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.extensions import SharedExtension
from nameko.rpc import Responder, Rpc, get_rpc_exchange
from sqlalchemy import exc as sa_exc

from services.common import dumping
from services.common.errors import Invalid, ServiceError, Unavailable, shared_form
from services.common.messaging.consumer import EventHandler

# Imported also for its side effect: a caller turns the shared errors back into types.
from services.common.rpc import BROKER_ERRORS
from services.common.schemas import load, load_payload

log = logging.getLogger(__name__)

# The instant (epoch seconds) after which the caller no longer waits for the
# answer; RpcClientPool sends it with every call (header ``nameko.deadline``).
DEADLINE_KEY = "deadline"
# Clocks of two hosts may differ this much.
DEADLINE_SKEW_SECONDS = 2.0


def schema_instance(schema: Schema | type[Schema] | None) -> Schema | None:
    return schema() if isinstance(schema, type) else schema


def _as_shared(call):
    """``call()``, with a ServiceError subclass leaving as its shared type, and a
    database that cannot be reached as Unavailable (a 503 at the gateway; an
    event handler tries again later)."""
    try:
        return call()
    except ServiceError as error:
        shared = shared_form(error)
        if shared is error:
            raise
        raise shared from error
    except sa_exc.DBAPIError as error:
        if not database_unreachable(error):
            raise
        log.warning("the database is unreachable", extra={"error": type(error.orig).__name__})
        raise Unavailable("the database is unreachable; try again shortly") from None


def database_unreachable(error: sa_exc.DBAPIError) -> bool:
    """Whether ``error`` says the database is down or the connection broke,
    rather than that the statement was wrong."""
    return error.connection_invalidated or isinstance(error, sa_exc.OperationalError)


class SignatureOnce:
    """An entrypoint mixin: nameko checks every call's arguments against the
    method with ``inspect.getcallargs``, which works the method's signature out
    again on each call; here it is worked out once per entrypoint."""

    def check_signature(self, args, kwargs):
        signature = self.__dict__.get("_signature")
        if signature is None:
            method = getattr(self.container.service_cls, self.method_name)
            # The method as it is, not what functools.wraps says it wraps (the
            # contract's entrypoints take ``**arguments``), as getcallargs does.
            signature = self._signature = inspect.signature(method, follow_wrapped=False)
        try:
            signature.bind(None, *args, **kwargs)  # None: the unbound method's self
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


class ContractRpc(SignatureOnce, Rpc):
    """nameko's RPC entrypoint, knowing its request and response schemas (so that
    the contract can be listed from the service class) and expecting every
    ServiceError."""

    def __init__(self, request: Schema | None = None, response: Schema | None = None, **kwargs):
        kwargs.setdefault("expected_exceptions", ServiceError)
        super().__init__(**kwargs)
        self.answers = AnswerChannels()
        self.request = request
        self.response = response
        self._exchange = None

    def handle_message(self, body, message):
        """Drop a request whose caller stopped waiting: one that waited out a
        broker restart in its queue, or was delivered again after the
        connection that took it broke. Running it would do work nobody sees."""
        deadline = _deadline(message)
        if deadline is not None and time.time() > deadline + DEADLINE_SKEW_SECONDS:
            log.info(
                "dropped a request its caller no longer waits for",
                extra={"method": self.method_name, "late_seconds": round(time.time() - deadline)},
            )
            self.rpc_consumer.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message, worker_ctx, result, exc_info):
        """Send the answer, then ack the request; when the broker is gone, say
        so and carry on.

        nameko raises out of the worker when the reply cannot be published,
        which kills the whole container: one broker restart would stop every
        service. The caller times out instead (a 503/504 at the gateway), and
        the request, never acked, is delivered again after its deadline and
        dropped (``handle_message``).
        """
        try:
            result, exc_info = self._responder(message).send_response(result, exc_info)
            self.rpc_consumer.queue_consumer.ack_message(message)
            return result, exc_info
        except Exception as exc:  # noqa: BLE001  (whatever broke the reply, the service stays)
            log.warning(
                "answer not sent: the broker is unreachable",
                extra={"method": self.method_name, "error": type(exc).__name__},
            )
            return result, exc_info

    def _responder(self, message) -> Responder:
        config = self.container.config
        if self._exchange is None:
            self._exchange = get_rpc_exchange(config)
        return AnswerResponder(
            config[AMQP_URI_CONFIG_KEY],
            self._exchange,
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
            publisher=self.answers,
        )


class _UnconfirmedPublisher(Publisher):
    use_confirms = False
    # Into the caller's own queue, which ends with its connection.
    delivery_mode = NON_PERSISTENT


class AnswerChannels(SharedExtension):
    """The connections a container's answers go out on, kept open and shared
    by its RPC methods, one worker on a connection at a time.

    nameko's publisher looks its producer up in kombu's pool for every answer
    (a connection object built from the URI to find it, a retrying wrapper
    around the publish): about twice the CPU of the publish itself. A
    connection the broker closed while it was idle fails the publish (py-amqp
    reads what waits on the socket before each one), is replaced, and the
    answer goes out once more on a new one."""

    def setup(self):
        config = self.container.config
        self._connect = functools.partial(
            kombu.Connection,
            config[AMQP_URI_CONFIG_KEY],
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        self._idle = LightQueue()

    def publish(self, body, *, content_type, content_encoding, exchange, routing_key, **properties):
        message = amqp.Message(
            body,
            content_type=content_type,
            content_encoding=content_encoding,
            delivery_mode=NON_PERSISTENT,
            **properties,
        )
        name = getattr(exchange, "name", exchange)
        held = self._take()
        try:
            held[1].basic_publish(message, exchange=name, routing_key=routing_key)
        except BROKER_ERRORS:
            self._close(held)
            held = self._open()
            try:
                held[1].basic_publish(message, exchange=name, routing_key=routing_key)
            except BaseException:
                self._close(held)
                raise
        except BaseException:  # killed mid-publish: the connection may hold half a frame
            self._close(held)
            raise
        self._idle.put(held)

    def _open(self):
        connection = self._connect()
        try:
            return connection, connection.channel()
        except BaseException:
            connection.release()
            raise

    def _take(self):
        return self._idle.get() if self._idle.qsize() else self._open()

    @staticmethod
    def _close(held) -> None:
        try:
            held[0].release()
        except Exception:  # noqa: BLE001  (a broken connection may fail to close; it is dropped)
            log.debug("error closing an answer connection", exc_info=True)

    def stop(self):
        while self._idle.qsize():
            self._close(self._idle.get())

    kill = stop


class AnswerResponder(Responder):
    """nameko's responder without publisher confirms, serialising the answer
    once (nameko serialises it to see that it can, then again to send it).

    A confirm makes the service wait a round trip to the broker for every
    answer, and tells it nothing it could act on: the request is done either
    way, and an answer that does not arrive is the caller's timeout, as it is
    when the service stops before answering."""

    publisher_cls = _UnconfirmedPublisher

    def __init__(self, *args, publisher=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.publisher = publisher  # AnswerChannels; else a publisher_cls per answer

    def send_response(self, result, exc_info):
        error = None if exc_info is None else serialize(exc_info[1])
        # Encoded the way the request was.
        serializer = serialization.registry.type_to_name[self.message.properties["content_type"]]
        try:
            encoded = serialization.dumps({"result": result, "error": error}, serializer)
        except Exception:  # noqa: BLE001  (nameko's answer to what cannot be serialised)
            exc_info = sys.exc_info()
            result, error = None, serialize(UnserializableValueError(result))
            encoded = serialization.dumps({"result": None, "error": error}, serializer)
        content_type, content_encoding, body = encoded
        publisher = self.publisher or self.publisher_cls(
            self.amqp_uri, ssl=self.ssl, login_method=self.login_method
        )
        publisher.publish(
            body,
            content_type=content_type,
            content_encoding=content_encoding,
            exchange=self.exchange,
            routing_key=self.message.properties["reply_to"],
            correlation_id=self.message.properties.get("correlation_id"),
        )
        return result, exc_info


def _deadline(message) -> float | None:
    headers = getattr(message, "headers", None) or {}
    value = headers.get(f"nameko.{DEADLINE_KEY}")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


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
            return None if response_schema is None else dumping.dump(response_schema, result)

        return ContractRpc.decorator(request=request_schema, response=response_schema)(entrypoint)

    return decorate


def _no_arguments(arguments: dict) -> tuple:
    if arguments:
        raise Invalid("this method takes no arguments", dict.fromkeys(arguments, "Unknown field."))
    return ()


class ContractEventHandler(SignatureOnce, EventHandler):
    """The retrying, dead-lettering event handler, knowing its payload schema."""

    def __init__(self, source_service: str, event_type: str, payload: Schema | None = None):
        # A ServiceError (a database away is Unavailable) is logged as a
        # warning: the event is tried again, or dead-lettered when Invalid.
        super().__init__(source_service, event_type, expected_exceptions=ServiceError)
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
