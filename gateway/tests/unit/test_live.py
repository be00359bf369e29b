"""The live case data feed: snapshots fanned out to bounded client queues as
Server-Sent Events, with keepalives, resumption and a clean end."""

import json

import eventlet
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.live import (
    KEEPALIVE,
    LiveFeed,
    LiveFeeds,
    apply_case_stats_changed,
    event_stream_response,
    sse_message,
)
from services.common.errors import Unavailable
from services.common.messaging.envelope import make_envelope

MEASURES = (
    "submitted",
    "accepted",
    "completed",
    "completed_on_time",
    "overdue",
    "denied",
    "rejected",
    "ems",
)


def snapshot(day="2026-11-25", today=1, all_time=10) -> dict:
    return {
        "day": day,
        "today": dict.fromkeys(MEASURES, 0) | {"submitted": today},
        "all_time": dict.fromkeys(MEASURES, 0) | {"submitted": all_time},
    }


def parse(message: bytes) -> dict:
    """An SSE message as {field: value}, the data loaded as JSON."""
    assert message.endswith(b"\n\n")
    fields = {}
    for line in message.decode("utf-8").strip("\n").split("\n"):
        name, _, value = line.partition(": ")
        fields[name] = value
    fields["data"] = json.loads(fields["data"])
    return fields


# --- messages ---------------------------------------------------------------


def test_a_message_is_an_event_with_one_line_of_json_and_its_id():
    message = sse_message({"day": "2026-11-25", "note": "两行\n文本"}, "e-1")

    assert message.startswith(b"event: case_stats\ndata: {")
    assert message.endswith(b"\nid: e-1\n\n")
    assert message.count(b"\n") == 4  # the JSON's own newline is escaped
    assert parse(message)["data"] == {"day": "2026-11-25", "note": "两行\n文本"}


# --- streaming --------------------------------------------------------------


def test_a_new_client_gets_the_current_snapshot_first_then_each_newer_one():
    feed = LiveFeed()
    feed.publish(snapshot(all_time=10), "e-1")
    stream = feed.stream()

    first = parse(next(stream))
    feed.publish(snapshot(all_time=11), "e-2")
    second = parse(next(stream))

    assert (first["event"], first["id"], first["data"]) == ("case_stats", "e-1", snapshot())
    assert (second["id"], second["data"]["all_time"]["submitted"]) == ("e-2", 11)


def test_a_client_idle_for_the_heartbeat_gets_a_keepalive_comment():
    feed = LiveFeed()
    stream = feed.stream(heartbeat=0.01)

    assert next(stream) == KEEPALIVE == b": keepalive\n\n"
    feed.publish(snapshot(), "e-1")
    assert parse(next(stream))["id"] == "e-1"


def test_without_a_snapshot_yet_the_stream_waits_for_the_first():
    feed = LiveFeed()
    stream = feed.stream(heartbeat=5)

    eventlet.spawn_after(0.01, feed.publish, snapshot(), "e-1")
    assert parse(next(stream))["id"] == "e-1"


def test_a_client_resuming_with_the_newest_id_is_not_sent_it_again():
    feed = LiveFeed()
    feed.publish(snapshot(all_time=10), "e-1")
    stream = feed.stream(last="e-1", heartbeat=0.01)

    assert next(stream) == KEEPALIVE
    feed.publish(snapshot(all_time=12), "e-2")
    assert parse(next(stream))["id"] == "e-2"


def test_a_client_resuming_with_an_older_id_gets_the_newest_snapshot():
    feed = LiveFeed()
    feed.publish(snapshot(all_time=10), "e-2")

    assert parse(next(feed.stream(last="e-1")))["id"] == "e-2"


def test_a_snapshot_published_as_the_stream_starts_is_sent_once():
    feed = LiveFeed()
    stream = feed.stream(heartbeat=0.01)
    feed.publish(snapshot(), "e-1")  # queued, and also the newest at the first read

    assert parse(next(stream))["id"] == "e-1"
    assert next(stream) == KEEPALIVE


def test_every_client_gets_every_snapshot():
    feed = LiveFeed()
    streams = [feed.stream(heartbeat=0.01) for _ in range(3)]
    assert feed.clients == 3

    feed.publish(snapshot(), "e-1")

    assert [parse(next(stream))["id"] for stream in streams] == ["e-1"] * 3


def test_a_slow_clients_queue_drops_its_oldest_snapshots():
    feed = LiveFeed(queue_size=2)
    stream = feed.stream(heartbeat=0.01)
    for number in range(1, 6):
        feed.publish(snapshot(all_time=number), f"e-{number}")

    # The queue holds e-4 and e-5 only; the first read sends the newest, and
    # nothing older after it.
    assert parse(next(stream))["id"] == "e-5"
    assert next(stream) == KEEPALIVE
    assert feed.dropped == 3

    for number in range(6, 9):
        feed.publish(snapshot(all_time=number), f"e-{number}")
    assert [parse(next(stream))["id"] for _ in range(2)] == ["e-7", "e-8"]


def test_closing_a_stream_gives_its_queue_back():
    feed = LiveFeed()
    stream = feed.stream()
    assert feed.clients == 1

    stream.close()
    stream.close()

    assert feed.clients == 0
    with pytest.raises(StopIteration):
        next(stream)


def test_a_stream_never_read_gives_its_queue_back_when_closed():
    feed = LiveFeed()
    feed.stream().close()

    assert feed.clients == 0


def test_too_many_clients_are_refused_as_unavailable():
    feed = LiveFeed(max_clients=2)
    first = feed.stream()
    feed.stream()

    with pytest.raises(Unavailable):
        feed.stream()
    first.close()
    feed.stream()  # a place freed


def test_closing_the_feed_ends_every_stream_and_refuses_new_ones():
    feed = LiveFeed(queue_size=1)
    feed.publish(snapshot(), "e-1")
    stream = feed.stream()
    next(stream)
    feed.publish(snapshot(all_time=11), "e-2")  # fills the queue

    feed.close()

    assert list(stream) == []
    assert feed.clients == 0
    assert feed.publish(snapshot(all_time=12), "e-3") is False
    with pytest.raises(Unavailable):
        feed.stream()


# --- snapshots --------------------------------------------------------------


def test_an_older_snapshot_arriving_late_is_ignored():
    feed = LiveFeed()
    assert feed.publish(snapshot(all_time=12), "e-2")

    assert feed.publish(snapshot(all_time=11), "e-1") is False
    assert feed.publish(snapshot(day="2026-11-24", all_time=12), "e-0") is False
    assert feed.publish(snapshot(day="2026-11-26", all_time=11), "e-0") is False
    assert feed.latest_id == "e-2"
    assert feed.publish(snapshot(day="2026-11-26", today=0, all_time=12), "e-3")
    assert feed.latest["day"] == "2026-11-26"


def test_the_feed_goes_on_after_a_clock_moved_ahead_is_set_back():
    """A drill moved the clock days ahead and back: the day goes back, the
    totals do not."""
    feed = LiveFeed()
    assert feed.publish(snapshot(day="2026-12-18", all_time=20), "drill")

    assert feed.publish(snapshot(day="2026-12-01", all_time=21), "back")
    assert feed.latest == snapshot(day="2026-12-01", all_time=21)


def test_a_snapshot_without_an_id_gets_one():
    feed = LiveFeed()
    feed.publish(snapshot())

    assert feed.latest_id and parse(next(feed.stream()))["id"] == feed.latest_id


def test_prime_loads_a_first_snapshot_only_when_there_is_none():
    feed = LiveFeed()
    loads = []

    def load():
        loads.append(1)
        return snapshot(all_time=3)

    feed.prime(load)
    feed.prime(load)

    assert len(loads) == 1
    assert feed.latest["all_time"]["submitted"] == 3


def test_prime_failing_leaves_the_feed_empty_and_working():
    feed = LiveFeed()

    def unavailable():
        raise Unavailable("ratings is down")

    feed.prime(unavailable)

    assert feed.latest is None
    assert feed.publish(snapshot(), "e-1")


@pytest.mark.parametrize(
    "settings",
    [{"queue_size": 0}, {"max_clients": 0}, {"heartbeat": 0}],
)
def test_nonsense_settings_are_refused(settings):
    with pytest.raises(ValueError):
        LiveFeed(**settings)


# --- events -----------------------------------------------------------------


def test_an_event_envelope_is_loaded_with_ratings_schema_and_published():
    feed = LiveFeed()
    event = make_envelope(
        "ratings", "case_stats_changed", {**snapshot(), "added_later": True}, event_id="e-9"
    )

    assert apply_case_stats_changed(feed, event) is True

    assert feed.latest_id == "e-9"
    assert feed.latest == snapshot()  # fields ratings may add later are left out


def test_an_event_id_that_is_not_one_line_is_replaced():
    feed = LiveFeed()
    event = make_envelope("ratings", "case_stats_changed", snapshot(), event_id="e-1\nevent: x")

    assert apply_case_stats_changed(feed, event) is True
    assert "\n" not in feed.latest_id
    assert parse(next(feed.stream()))["event"] == "case_stats"


def test_a_bare_payload_is_taken_too():
    feed = LiveFeed()

    assert apply_case_stats_changed(feed, snapshot()) is True
    assert feed.latest == snapshot()


@pytest.mark.parametrize(
    "payload",
    [
        {"day": "2026-11-25"},
        {**snapshot(), "day": "yesterday"},
        {**snapshot(), "today": {"submitted": -1}},
        "not an object",
    ],
)
def test_an_event_that_does_not_load_is_dropped(payload):
    feed = LiveFeed()

    assert apply_case_stats_changed(feed, payload) is False
    assert feed.latest is None


# --- the HTTP response ------------------------------------------------------


def test_the_response_streams_events_without_buffering():
    feed = LiveFeed(heartbeat=0.01)
    feed.publish(snapshot(), "e-1")
    request = Request(EnvironBuilder(path="/api/v1/stats/live").get_environ())

    response = event_stream_response(feed, request)
    body = iter(response.response)

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert request.environ["eventlet.minimum_write_chunk_size"] == 0
    assert parse(next(body))["id"] == "e-1"
    assert next(body) == KEEPALIVE
    response.close()
    assert feed.clients == 0


def test_the_response_resumes_after_last_event_id():
    feed = LiveFeed(heartbeat=0.01)
    feed.publish(snapshot(), "e-1")
    request = Request(
        EnvironBuilder(path="/api/v1/stats/live", headers={"Last-Event-ID": "e-1"}).get_environ()
    )

    response = event_stream_response(feed, request)

    assert next(iter(response.response)) == KEEPALIVE
    response.close()


def test_the_response_through_wsgi_closes_the_stream_when_the_server_does():
    feed = LiveFeed(heartbeat=0.01)
    feed.publish(snapshot(), "e-1")
    environ = EnvironBuilder(path="/api/v1/stats/live").get_environ()
    response = event_stream_response(feed, Request(environ))
    started = []

    body = response(environ, lambda status, headers: started.append((status, dict(headers))))
    chunks = [next(iter(body)), next(iter(body))]
    body.close()

    assert started[0][0] == "200 OK"
    assert started[0][1]["Content-Type"].startswith("text/event-stream")
    assert parse(chunks[0])["id"] == "e-1" and chunks[1] == KEEPALIVE
    assert feed.clients == 0


def test_too_many_clients_is_a_503_before_the_response_starts():
    feed = LiveFeed(max_clients=1)
    request = Request(EnvironBuilder(path="/api/v1/stats/live").get_environ())
    event_stream_response(feed, request)

    with pytest.raises(Unavailable):
        event_stream_response(feed, request)


# --- the nameko dependency --------------------------------------------------


class _Container:
    def __init__(self, config):
        self.config = config


def test_the_dependency_reads_its_settings_and_closes_the_feed_on_stop():
    container = _Container(
        {
            "LIVE_FEED_QUEUE_SIZE": "4",
            "LIVE_FEED_MAX_CLIENTS": "50",
            "LIVE_FEED_HEARTBEAT_SECONDS": "20",
        }
    )
    provider = LiveFeeds().bind(container, "live")
    provider.setup()
    feed = provider.get_dependency(worker_ctx=None)
    stream = feed.stream()

    assert (feed.queue_size, feed.max_clients, feed.heartbeat) == (4, 50, 20.0)
    assert provider.get_dependency(worker_ctx=None) is feed
    provider.stop()
    assert list(stream) == [] and feed.closed


def test_the_dependency_defaults():
    container = _Container({})
    provider = LiveFeeds().bind(container, "live")
    provider.setup()
    feed = provider.get_dependency(worker_ctx=None)

    assert (feed.queue_size, feed.max_clients, feed.heartbeat) == (8, 1000, 15.0)


def test_each_event_reaches_the_client_as_it_is_published_over_http():
    """Through eventlet's WSGI server, as the gateway serves it: nothing waits
    in a buffer for more bytes, and a client gone is noticed at the next writes
    (events or keepalives) and its queue freed."""
    import socket

    from eventlet import wsgi

    feed = LiveFeed(heartbeat=0.1)
    feed.publish(snapshot(all_time=10), "e-1")

    def app(environ, start_response):
        return event_stream_response(feed, Request(environ))(environ, start_response)

    listener = eventlet.listen(("127.0.0.1", 0))
    server = eventlet.spawn(wsgi.server, listener, app, log_output=False)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    try:
        client.sendall(b"GET /api/v1/stats/live HTTP/1.1\r\nHost: gateway\r\n\r\n")
        received = b""
        with eventlet.Timeout(5):
            while b"id: e-1\n\n" not in received:
                received += client.recv(4096)
            assert b"text/event-stream" in received
            feed.publish(snapshot(all_time=11), "e-2")
            while b"id: e-2\n\n" not in received:
                received += client.recv(4096)
        assert feed.clients == 1
    finally:
        client.close()
    with eventlet.Timeout(5):
        while feed.clients:
            eventlet.sleep(0.01)
    server.kill()
    listener.close()
