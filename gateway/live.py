"""The live case data feed: Server-Sent Events of ratings' ``case_stats_changed``.

Each gateway process keeps the newest ``case_stats_changed`` payload (the
province's case totals of today and of all time) and the queues of the clients
streaming ``GET /api/v1/stats/live`` (``text/event-stream``). A new client gets
the newest snapshot at once, then every newer one as ratings publishes it, and a
``: keepalive`` comment whenever nothing happened for ``heartbeat`` seconds (so
proxies keep the connection open and a client notices a dead one).

Every message is a whole snapshot, never a difference: a client that misses some
loses nothing but time. So each client's queue is short and bounded, and a slow
client's oldest snapshots are dropped rather than letting its queue grow.
Snapshots carry the event id (SSE ``id:``); a client reconnecting with
``Last-Event-ID`` equal to the newest one is not sent it again.

The gateway subscribes to ``ratings.case_stats_changed`` with one broadcast
queue per process (as for the catalogue cache) and hands each event to
:func:`apply_case_stats_changed`. A process that has no snapshot yet (it started
after the last change) asks ratings once (``live_case_stats``) through
:meth:`LiveFeed.prime`.

Plain Python on eventlet's queues; :class:`LiveFeeds` is the nameko dependency.
"""

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping

from eventlet.queue import Empty, Full, LightQueue
from marshmallow import EXCLUDE, ValidationError
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.common.errors import Unavailable
from services.ratings import contract as ratings

log = logging.getLogger(__name__)

EVENT_NAME = "case_stats"
KEEPALIVE = b": keepalive\n\n"
DEFAULT_QUEUE_SIZE = 8
DEFAULT_MAX_CLIENTS = 1000
DEFAULT_HEARTBEAT_SECONDS = 15.0
# Put in every client's queue when the feed closes: the stream ends.
_CLOSED = object()


def sse_message(payload: Mapping, event_id: str | None = None) -> bytes:
    """One Server-Sent Event: ``event: case_stats``, the payload as one line of
    JSON, and its id."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    message = f"event: {EVENT_NAME}\ndata: {data}\n"
    if event_id:
        message += f"id: {event_id}\n"
    return (message + "\n").encode("utf-8")


def _progress(payload: Mapping) -> tuple[int, str] | None:
    """How far a snapshot has come: the sum of its all-time totals, then its
    day. The totals never go down, so a snapshot counting fewer is older
    whatever its day: a clock moved ahead for a drill and set back makes the
    days go back, and the feed must not stop at the drill's day. None when
    the payload does not say."""
    try:
        return sum(int(value) for value in payload["all_time"].values()), str(payload["day"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class LiveFeed:
    """The newest snapshot and the queues of the clients streaming it.

    ``queue_size`` bounds each client's queue (its oldest snapshot is dropped
    when full); ``max_clients`` bounds the clients streaming at once (one more is
    refused with Unavailable, a 503); ``heartbeat`` is the default idle time in
    seconds before a keepalive comment.
    """

    def __init__(
        self,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
    ):
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        if heartbeat <= 0:
            raise ValueError("heartbeat must be a positive number of seconds")
        self.queue_size = queue_size
        self.max_clients = max_clients
        self.heartbeat = float(heartbeat)
        self._latest: tuple[str, dict] | None = None
        self._queues: set[LightQueue] = set()
        self.closed = False
        self.dropped = 0

    @property
    def latest(self) -> dict | None:
        """The newest snapshot's payload, or None before the first."""
        return None if self._latest is None else self._latest[1]

    @property
    def latest_id(self) -> str | None:
        return None if self._latest is None else self._latest[0]

    @property
    def clients(self) -> int:
        """Clients streaming now."""
        return len(self._queues)

    def publish(self, payload: Mapping, event_id: str | None = None) -> bool:
        """Make ``payload`` the newest snapshot and send it to every client.

        A snapshot older than the one held (smaller all-time totals, or the
        same of an earlier day: a late delivery) is ignored; returns whether
        it was taken.
        """
        if self.closed:
            return False
        payload = dict(payload)
        if self._latest is not None:
            held, offered = _progress(self._latest[1]), _progress(payload)
            if held is not None and offered is not None and offered < held:
                log.info("ignoring an older live case snapshot", extra={"event_id": event_id})
                return False
        event_id = event_id or uuid.uuid4().hex
        self._latest = (event_id, payload)
        message = sse_message(payload, event_id)
        for queue in list(self._queues):
            self._offer(queue, (event_id, message))
        return True

    def prime(self, load: Callable[[], Mapping]) -> None:
        """Take a first snapshot from ``load()`` when the feed has none (a
        process that started after the last change). A failure is logged and
        the stream starts empty; the next event fills it."""
        if self._latest is not None or self.closed:
            return
        try:
            payload = load()
        except Exception:  # noqa: BLE001  (the feed works without a first snapshot)
            log.warning("could not load the live case data; streaming without it", exc_info=True)
            return
        if self._latest is None and payload is not None:
            self.publish(payload)

    def _offer(self, queue: LightQueue, item) -> None:
        """Put ``item`` in a client's queue, dropping its oldest when full."""
        while True:
            try:
                queue.put_nowait(item)
                return
            except Full:
                try:
                    queue.get_nowait()
                    self.dropped += 1
                except Empty:
                    pass

    def subscribe(self) -> LightQueue:
        """A new client's queue. Raises Unavailable when ``max_clients`` stream
        already, or the feed is closed (the process is stopping)."""
        if self.closed:
            raise Unavailable("the live feed is closing")
        if len(self._queues) >= self.max_clients:
            raise Unavailable("too many clients are streaming the live feed; try again later")
        queue = LightQueue(self.queue_size)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: LightQueue) -> None:
        self._queues.discard(queue)

    def stream(self, last: str | None = None, heartbeat: float | None = None) -> "EventStream":
        """The Server-Sent Events for one client: the newest snapshot first
        (unless its id is ``last``, the client's ``Last-Event-ID``), then each
        newer one, ``: keepalive`` after ``heartbeat`` idle seconds (the feed's
        when None). The client's queue is taken now (Unavailable when too many
        stream) and given back when the stream is closed or ends."""
        return EventStream(self, self.subscribe(), last, heartbeat or self.heartbeat)

    def close(self) -> None:
        """End every stream (the process is stopping) and refuse new ones."""
        self.closed = True
        for queue in list(self._queues):
            self._offer(queue, _CLOSED)


class EventStream:
    """An iterable of Server-Sent Events bytes for one client (WSGI body).

    ``close()`` (the WSGI server calls it when the client goes or the response
    ends) gives the client's queue back to the feed.
    """

    def __init__(self, feed: LiveFeed, queue: LightQueue, last: str | None, heartbeat: float):
        self.feed = feed
        self.queue = queue
        self.heartbeat = heartbeat
        self._sent = last
        self._first = True
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        if self._first:
            self._first = False
            # What was queued before this first read is at most the newest
            # snapshot, which is what the client gets (or has) now.
            while True:
                try:
                    item = self.queue.get_nowait()
                except Empty:
                    break
                if item is _CLOSED:
                    return self._end()
            latest_id = self.feed.latest_id
            if latest_id is not None and latest_id != self._sent:
                self._sent = latest_id
                return sse_message(self.feed.latest, latest_id)
        while True:
            try:
                item = self.queue.get(timeout=self.heartbeat)
            except Empty:
                return KEEPALIVE
            if item is _CLOSED:
                return self._end()
            event_id, message = item
            if event_id == self._sent:
                continue
            self._sent = event_id
            return message

    def _end(self):
        self.close()
        raise StopIteration

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.feed.unsubscribe(self.queue)


def apply_case_stats_changed(feed: LiveFeed, body) -> bool:
    """Hand a ``ratings.case_stats_changed`` event (the envelope, or a bare
    payload) to the feed; a payload that does not load with ratings' schema is
    logged and dropped. Returns whether the feed took it."""
    envelope = body if isinstance(body, Mapping) else {}
    payload = envelope.get("payload") if isinstance(envelope.get("payload"), Mapping) else envelope
    schema = ratings.CaseStatsChanged(unknown=EXCLUDE)
    try:
        snapshot = schema.dump(schema.load(payload))
    except ValidationError as error:
        log.warning(
            "dropping a case_stats_changed event that does not load",
            extra={"event_id": envelope.get("id"), "fields": sorted(error.messages)},
        )
        return False
    event_id = envelope.get("id")
    if not isinstance(event_id, str) or not event_id.isprintable():
        event_id = None  # an SSE id is one line; the feed makes one up
    return feed.publish(snapshot, event_id)


def event_stream_response(feed: LiveFeed, request) -> Response:
    """The ``text/event-stream`` response of one client's stream, resuming after
    its ``Last-Event-ID``. Each event is written as soon as it is yielded (no
    server-side buffering: eventlet's minimum write size set to 0 for this
    request, ``X-Accel-Buffering: no`` for an nginx proxy)."""
    stream = feed.stream(last=request.headers.get("Last-Event-ID") or None)
    request.environ["eventlet.minimum_write_chunk_size"] = 0
    return Response(
        stream,
        status=200,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        direct_passthrough=True,
    )


class LiveFeeds(DependencyProvider):
    """One :class:`LiveFeed` per gateway process, shared by every worker
    (LIVE_FEED_QUEUE_SIZE, LIVE_FEED_MAX_CLIENTS, LIVE_FEED_HEARTBEAT_SECONDS);
    its streams end when the process stops."""

    def setup(self):
        config = self.container.config
        self.feed = LiveFeed(
            queue_size=int(config.get("LIVE_FEED_QUEUE_SIZE", DEFAULT_QUEUE_SIZE)),
            max_clients=int(config.get("LIVE_FEED_MAX_CLIENTS", DEFAULT_MAX_CLIENTS)),
            heartbeat=float(config.get("LIVE_FEED_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS)),
        )

    def stop(self):
        self.feed.close()

    def kill(self):
        self.feed.close()

    def get_dependency(self, worker_ctx):
        return self.feed
