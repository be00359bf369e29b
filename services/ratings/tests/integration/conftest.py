import pytest
from amqp.exceptions import NotFound
from kombu import Connection
from nameko.testing.utils import find_free_port

from services.common.messaging import topology
from services.common.migrations import upgrade
from services.ratings.service import RatingsService


@pytest.fixture
def database_url(database_factory, monkeypatch):
    monkeypatch.delenv("RATINGS_DATABASE_URL", raising=False)
    url = database_factory("ratings")
    upgrade("ratings", url)  # the migrations, as a deploy runs them
    return url


@pytest.fixture
def config(amqp_uri, database_url, no_ratings_events_left):
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": database_url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "OUTBOX_POLL_SECONDS": 0.05,
        "EVENT_MAX_ATTEMPTS": 2,
        "EVENT_RETRY_DELAYS_MS": "50",
    }


@pytest.fixture
def ratings(container_factory, config):
    container = container_factory(RatingsService, config)
    container.start()
    return container


@pytest.fixture
def no_ratings_events_left(amqp_uri):
    """Ratings consumes its own events (the indicators count them), and the
    handlers' queues outlive a test. A test's container may stop before taking
    one; the next test's container, on a database of its own, must not count
    it: those queues are emptied first."""
    names = [
        topology.handler_queue_name(
            handler.source_service, handler.event_type, RatingsService.name, method
        )
        for method, handler in topology.handler_entrypoints(RatingsService)
        if handler.source_service == RatingsService.name
    ]
    with Connection(amqp_uri) as connection:
        for name in names:
            with connection.channel() as channel:
                try:
                    channel.queue_purge(name)
                except NotFound:
                    pass  # not declared yet: nothing left in it
