"""The read models in a running ratings service, on the real broker and
PostgreSQL: workflow's events are published as workflow's relay would; ratings'
own events go out through its outbox relay and come back to its own handlers;
``case_stats_changed`` is read from a test queue bound to ``ratings.events``.

The tables are created from ``adapters.orm`` (as the integration migration will
create them)."""

import json
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common.messaging.envelope import make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.testing import citizen

DEPARTMENT = "320100-MSA"
APPLICANT = "u-applicant-0042"


@pytest.fixture
def announcements(amqp_uri):
    """A queue of this test's own for ratings' ``case_stats_changed``."""
    name = f"test-case-stats-{uuid.uuid4().hex}"
    exchange = Exchange("ratings.events", type="topic", durable=True, auto_delete=False)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        exchange(channel).declare()
        Queue(name, exchange=exchange, routing_key="case_stats_changed", durable=False)(
            channel
        ).declare()

        def take(timeout=10.0) -> dict:
            with eventlet.Timeout(timeout):
                while True:
                    message = channel.basic_get(name, no_ack=True)
                    if message is not None:
                        return json.loads(message.body)
                    eventlet.sleep(0.05)

        yield take
        channel.queue_delete(name)


def publish(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        assert publisher.publish_batch([outgoing(envelope)]) == []
    finally:
        publisher.close()


def case(application_id):
    return {
        "application_id": application_id,
        "applicant_id": APPLICANT,
        "item_id": "item-food",
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "store_id": "store-nj-msa",
        "submitted_at": "2026-11-20T01:00:00Z",
        "due_date": "2026-12-04",
    }


def submitted(application_id):
    return make_envelope(
        "workflow",
        "application_submitted",
        {**case(application_id), "delivery": {"mode": "online", "address": None}, "window": None},
    )


def ended(application_id):
    return make_envelope(
        "workflow",
        "application_ended",
        {
            **case(application_id),
            "principal_id": None,
            "handled_by": DEPARTMENT,
            "mode": "online",
            "outcome": "completed",
            "ended_at": "2026-11-24T09:30:00Z",
            "on_time": True,
            "working_days": 3,
        },
    )


def test_workflows_events_feed_the_case_data_and_its_announcements(
    ratings, config, amqp_uri, announcements
):
    with entrypoint_waiter(ratings, "count_case_submitted"):
        publish(amqp_uri, submitted("app-live-1"))
    first = announcements()
    with entrypoint_waiter(ratings, "on_application_ended"):
        publish(amqp_uri, ended("app-live-1"))
    second = announcements()

    assert first["type"] == "case_stats_changed" and first["source"] == "ratings"
    assert first["payload"]["all_time"]["submitted"] == 1
    assert second["payload"]["all_time"]["completed"] == 1
    with ServiceRpcProxy("ratings", config) as proxy:
        figures = proxy.case_stats(region="320102")
        live = proxy.live_case_stats()
    assert (figures["submitted"], figures["completed"], figures["on_time_rate"]) == (1, 1, 1.0)
    assert live["all_time"] == second["payload"]["all_time"]


def test_a_review_comes_back_through_the_broker_to_the_indicators(ratings, config, amqp_uri):
    with entrypoint_waiter(ratings, "on_application_ended"):
        publish(amqp_uri, ended("app-rated-1"))

    with ServiceRpcProxy("ratings", config) as proxy:
        assert proxy.stats()["overall"]["evaluable"] == 1
        with entrypoint_waiter(ratings, "count_review_submitted", timeout=10):
            proxy.submit_review(
                actor=citizen(APPLICANT),
                application_id="app-rated-1",
                grade=4,
                comment="很快",
                indicators={"efficiency": 5},
            )
        overall = proxy.stats(store="store-nj-msa")["overall"]
        board = proxy.list_store_reviews(store_id="store-nj-msa")

    assert (overall["reviews"], overall["evaluation_rate"], overall["praise_rate"]) == (
        1,
        1.0,
        1.0,
    )
    assert overall["sub_grades"] == {"efficiency": 5.0}
    assert board["summary"]["reviews"] == 1
