import pytest
from amqp.exceptions import NotFound
from kombu import Connection

from services.common.messaging import topology
from services.ratings.service import RatingsService


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
