"""RPC calls with a deadline.

nameko's ``RpcProxy`` dependency waits for ever; a caller facing users (the
gateway) must not. :class:`RpcClients` keeps a small pool of standalone cluster
proxies, each with its own reply queue, and calls with a timeout: a service that
does not answer in time raises :class:`~services.common.errors.Unavailable`.
"""

import logging
import time
import uuid

import amqp
import amqp.exceptions
import kombu.exceptions
import kombu.serialization
from eventlet.queue import LightQueue
from kombu import Consumer
from kombu.common import maybe_declare
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import RpcTimeout, UnknownService, deserialize_to_instance, serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import HeaderEncoder
from nameko.rpc import RpcReply, get_rpc_exchange
from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
)

from services.common.errors import SHARED, Unavailable

log = logging.getLogger(__name__)

# A caller gets the shared error types back as themselves, not as RemoteError.
for _shared_type in SHARED:
    deserialize_to_instance(_shared_type)
deserialize_to_instance(UnknownService)


# What a lost or refused broker connection raises, from socket to kombu.
BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError)


class Timeout(Unavailable):
    """The service took longer than the deadline to answer."""

    code = "timeout"


class _UnackedReplies(PollingQueueConsumer):
    """nameko's reply consumer, taking answers without acks, and the channel
    the requests go out on (``requests``), on the same connection.

    The reply queue is the proxy's own (exclusive, deleted with its
    connection): an answer the broker hands over and the connection then loses
    is the caller's timeout with or without an ack, so the ack was one more
    frame each way for every call.

    A request to a service whose queue does not exist comes back (``mandatory``)
    as a basic.return on this connection, which the wait for the answer reads:
    it answers UnknownService at once, without a publisher confirm per call."""

    requests = None

    def _setup_consumer(self):
        if self.consumer is not None:
            try:
                self.consumer.cancel()
            except OSError:  # the connection is gone, and the consumer with it
                pass
        channel = self.connection.channel()
        self.queue = self.queue.bind(channel)
        maybe_declare(self.queue, channel)
        consumer = Consumer(channel, queues=[self.queue], accept=self.accept, no_ack=True)
        consumer.callbacks = [self.on_message]
        consumer.consume()
        self.consumer = consumer
        self.requests = self.connection.channel()
        self.requests.events["basic_return"].add(self._returned)

    def _returned(self, _exc, _exchange, routing_key, message) -> None:
        """A request no queue took: its answer is UnknownService."""
        service = routing_key.split(".", 1)[0]
        answer = {"result": None, "error": serialize(UnknownService(service))}
        self.replies[message.properties.get("correlation_id")] = (answer, message)

    def ack_message(self, msg):
        """Taken already (``no_ack``), or a request that came back."""


class _ReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = _UnackedReplies(timeout=timeout)


class _Requests(HeaderEncoder):
    """The calls of one pooled proxy: each request serialised once and
    published straight on the reply connection's channel (nameko's proxy
    builds a publisher per method and acquires a pooled connection per call).
    Requests go out transient: a request is worth nothing once its caller
    stopped waiting, so the broker need not write it to disk."""

    def __init__(self, wrapper: ClusterRpcProxy):
        self.worker_ctx = wrapper._worker_ctx
        self.listener = wrapper._reply_listener
        self.exchange = get_rpc_exchange(wrapper._worker_ctx.config).name

    def send(self, service: str, method: str, kwargs: dict):
        """Publish the request; the event its answer will be sent to."""
        correlation_id = str(uuid.uuid4())
        reply_event = self.listener.get_reply_event(correlation_id)
        content_type, encoding, body = kombu.serialization.dumps(
            {"args": (), "kwargs": kwargs}, serializer="json"
        )
        message = amqp.Message(
            body,
            content_type=content_type,
            content_encoding=encoding,
            delivery_mode=NON_PERSISTENT,
            correlation_id=correlation_id,
            reply_to=self.listener.routing_key,
            application_headers=self.get_message_headers(self.worker_ctx),
        )
        try:
            self.listener.queue_consumer.requests.basic_publish(
                message, exchange=self.exchange, routing_key=f"{service}.{method}", mandatory=True
            )
        except BaseException:
            self.listener._reply_events.pop(correlation_id, None)
            raise
        return reply_event


class _NotSent(Exception):
    """The request could not be published: the broker never had it."""


class RpcClientPool:
    def __init__(self, config: dict, timeout: float = 5.0, size: int = 8):
        self.config = config
        self.timeout = timeout
        self.size = size
        self._idle: LightQueue = LightQueue()
        self._created = 0

    def _acquire(self):
        if self._idle.qsize() == 0 and self._created < self.size:
            self._created += 1
            try:
                wrapper = ClusterRpcProxy(
                    self.config, timeout=self.timeout, reply_listener_cls=_ReplyListener
                )
                wrapper.start()
                return wrapper, _Requests(wrapper)
            except Exception:
                self._created -= 1
                raise
        return self._idle.get()

    def _discard(self, entry) -> None:
        wrapper, _ = entry
        self._created -= 1
        try:
            wrapper.stop()
        except Exception:  # a broken proxy may fail to stop; it is dropped anyway
            log.debug("error stopping an RPC proxy", exc_info=True)

    def call(self, service: str, method: str, correlation_id: str | None = None, **kwargs):
        # A request that could not be published never reached the broker, so
        # it goes out once more on another client: a client whose connection
        # the broker closed while it was idle fails the publish (py-amqp reads
        # what waits on the socket before each one). One that was published is
        # never sent twice.
        try:
            return self._call(service, method, correlation_id, kwargs)
        except _NotSent:
            pass
        try:
            return self._call(service, method, correlation_id, kwargs)
        except _NotSent as exc:
            raise Unavailable(f"{service} is unreachable") from exc.__cause__

    def _call(self, service: str, method: str, correlation_id: str | None, kwargs: dict):
        try:
            entry = self._acquire()
        except Exception as exc:
            raise Unavailable(f"cannot reach the broker: {type(exc).__name__}") from exc
        wrapper, requests = entry
        wrapper._worker_ctx.data["correlation_id"] = correlation_id
        # Sent along (header nameko.deadline): the service drops the request
        # rather than run it after we stopped waiting (ContractRpc).
        wrapper._worker_ctx.data["deadline"] = f"{time.time() + self.timeout:.3f}"
        try:
            reply_event = requests.send(service, method, kwargs)
        except (*BROKER_ERRORS, ConnectionError) as exc:
            self._discard(entry)
            raise _NotSent() from exc
        except BaseException:
            self._idle.put(entry)
            raise
        try:
            result = RpcReply(reply_event).result()
        except RpcTimeout as exc:
            self._discard(entry)  # a late reply must not reach the next caller
            raise Timeout(f"{service} did not answer within {self.timeout:g}s") from exc
        except UnknownService as exc:
            self._idle.put(entry)
            raise Unavailable(f"{service} is not running") from exc
        except (*BROKER_ERRORS, ConnectionError) as exc:
            self._discard(entry)
            raise Unavailable(f"{service} is unreachable") from exc
        except RuntimeError as exc:
            # nameko's standalone proxy, once its connection broke: "This
            # consumer has been disconnected, and can no longer be used".
            self._discard(entry)
            raise Unavailable(f"{service} is unreachable: the broker connection broke") from exc
        except BaseException:
            self._idle.put(entry)
            raise
        self._idle.put(entry)
        return result

    def close(self) -> None:
        while self._idle.qsize():
            self._discard(self._idle.get())


class RpcClients(DependencyProvider):
    """A pool of RPC clients with a timeout, shared by all workers of a service."""

    def __init__(self, timeout: float | None = None, size: int = 8):
        self.timeout = timeout
        self.size = size
        self.pool = None

    def setup(self):
        timeout = self.timeout or float(self.container.config.get("RPC_TIMEOUT_SECONDS", 5))
        self.pool = RpcClientPool(self.container.config, timeout=timeout, size=self.size)

    def stop(self):
        self.pool.close()

    def kill(self):
        self.pool.close()

    def get_dependency(self, worker_ctx):
        return self.pool
