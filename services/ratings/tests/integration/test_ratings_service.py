"""The ratings service in a container, on the real broker and PostgreSQL.

workflow's ``application_ended`` is published as workflow's relay would; what
ratings emits is read from a test queue bound to ``ratings.events``.
"""

import json
import uuid
from datetime import timedelta

import eventlet
import pytest
import requests
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from prometheus_client.parser import text_string_to_metric_families

from services.common import clock
from services.common.db import make_engine
from services.common.errors import Conflict, Forbidden, Invalid
from services.common.messaging import topology
from services.common.messaging.envelope import isoformat_utc, make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.testing import citizen, staff
from services.ratings.adapters import orm
from services.ratings.service import RatingsService

DEPARTMENT = "320100-MSA"


CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ratings_events(amqp_uri):
    """A queue of this test's own, bound to ratings.events for the events it reads."""
    name = f"test-ratings-events-{uuid.uuid4().hex}"
    exchange = Exchange("ratings.events", type="topic", durable=True, auto_delete=False)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        exchange(channel).declare()
        for routing_key in ("review_submitted", "bad_review_flagged", "rectification_resolved"):
            Queue(name, exchange=exchange, routing_key=routing_key, durable=False)(
                channel
            ).declare()

        class Events:
            def take(self, count, timeout=10.0):
                """The next ``count`` envelopes on the queue (waits for them)."""
                taken = []
                with eventlet.Timeout(timeout):
                    while len(taken) < count:
                        message = channel.basic_get(name, no_ack=True)
                        if message is None:
                            eventlet.sleep(0.05)
                            continue
                        taken.append(json.loads(message.body))
                return taken

        yield Events()
        channel.queue_delete(name)


def publish_completed(amqp_uri, **overrides):
    """workflow's ``application_ended`` of a case that ended completed."""
    payload = {
        "application_id": f"app-{uuid.uuid4().hex[:12]}",
        "applicant_id": "u-applicant-0042",
        "principal_id": None,
        "item_id": "item-food",
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "handled_by": DEPARTMENT,
        "region_code": "320102",
        "store_id": "store-nj-msa",
        "mode": "online",
        "outcome": "completed",
        "submitted_at": isoformat_utc(clock.now() - timedelta(days=3)),
        # Within the review window of the process clock.
        "ended_at": isoformat_utc(clock.now() - timedelta(hours=1)),
        "due_date": (clock.now() + timedelta(days=7)).date().isoformat(),
        "on_time": True,
        "working_days": 2,
    }
    payload.update(overrides)
    envelope = make_envelope("workflow", "application_ended", payload)
    publish(amqp_uri, envelope)
    return envelope


def publish(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        assert publisher.publish_batch([outgoing(envelope)]) == []
    finally:
        publisher.close()


def count(engine, table, **where):
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(*[table.c[name] == value for name, value in where.items()])
        ).scalar_one()


def completed_case(ratings, amqp_uri, **overrides):
    with entrypoint_waiter(ratings, "on_application_ended"):
        envelope = publish_completed(amqp_uri, **overrides)
    return envelope["payload"]["application_id"]


def test_a_completed_application_becomes_reviewable_and_counts_once(
    ratings, config, amqp_uri, engine
):
    envelope = make_envelope(
        "workflow",
        "application_ended",
        {
            "application_id": "app-once",
            "applicant_id": "u-applicant-0042",
            "principal_id": None,
            "item_id": "item-food",
            "item_name": "食品经营许可",
            "department_code": DEPARTMENT,
            "handled_by": DEPARTMENT,
            "region_code": "320102",
            "store_id": "store-nj-msa",
            "mode": "online",
            "outcome": "completed",
            "submitted_at": "2026-11-20T01:00:00Z",
            "ended_at": "2026-11-24T09:30:00Z",
            "due_date": "2026-11-27",
            "on_time": True,
            "working_days": 3,
        },
    )
    for _ in range(2):
        with entrypoint_waiter(ratings, "on_application_ended"):
            publish(amqp_uri, envelope)

    assert count(engine, orm.reviewable_cases, application_id="app-once") == 1
    # Once by each part of the handler: the case, and its count.
    assert count(engine, orm.metadata.tables["handled_events"]) == 2
    with ServiceRpcProxy("ratings", config) as proxy:
        assert proxy.case_stats()["completed"] == 1


def test_a_malformed_ended_event_is_dead_lettered_at_once(ratings, amqp_uri, engine):
    dead = topology.dead_letter_queue_name(
        topology.handler_queue_name(
            "workflow", "application_ended", "ratings", "on_application_ended"
        )
    )
    envelope = make_envelope("workflow", "application_ended", {"application_id": "app-broken"})
    with entrypoint_waiter(ratings, "on_application_ended"):
        publish(amqp_uri, envelope)

    found, held = None, []
    with Connection(amqp_uri) as connection, eventlet.Timeout(10):
        channel = connection.default_channel
        while found is None:
            message = channel.basic_get(dead, no_ack=False)
            if message is None:
                eventlet.sleep(0.05)
            elif json.loads(message.body)["id"] == envelope["id"]:
                found = message
                channel.basic_ack(message.delivery_tag)
            else:  # someone else's dead letter: held, then left for the operator
                held.append(message.delivery_tag)
        for tag in held:
            channel.basic_reject(tag, requeue=True)
    assert found.headers["x-tongban-attempt"] == 1
    assert "payload.store_id" in found.headers["x-tongban-error"]
    assert count(engine, orm.reviewable_cases) == 0
    assert count(engine, orm.metadata.tables["handled_events"]) == 0


def test_a_review_over_rpc_emits_review_submitted(ratings, config, amqp_uri, ratings_events):
    application_id = completed_case(ratings, amqp_uri)

    with ServiceRpcProxy("ratings", config) as proxy:
        result = proxy.submit_review(
            actor=citizen("u-applicant-0042"),
            application_id=application_id,
            grade=5,
            comment="办事很快",
        )
        reviews = proxy.list_store_reviews(store_id="store-nj-msa", page=1, page_size=20)

    [envelope] = ratings_events.take(1)
    assert envelope["type"] == "review_submitted"
    assert envelope["source"] == "ratings"
    payload = envelope["payload"]
    submitted_at = payload.pop("submitted_at")
    assert submitted_at.endswith("Z")
    assert payload == {
        "review_id": result["review_id"],
        "application_id": application_id,
        "visit_id": None,
        "store_id": "store-nj-msa",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "item_id": "item-food",
        "item_name": "食品经营许可",
        "grade": 5,
        "channel": "web",
        "real_name": True,
        "indicators": {},
    }
    assert reviews["total"] == 1
    assert reviews["items"][0]["reviewer"] == "u***"
    assert reviews["items"][0]["reply"] is None


def test_a_grade_1_review_is_flagged_and_opens_a_rectification(
    ratings, config, amqp_uri, ratings_events, engine
):
    application_id = completed_case(ratings, amqp_uri)

    with ServiceRpcProxy("ratings", config) as proxy:
        result = proxy.submit_review(
            actor=citizen("u-applicant-0042"),
            application_id=application_id,
            grade=1,
            comment="态度差",
        )
        listed = proxy.list_rectifications(actor=CLERK)

    submitted, flagged = ratings_events.take(2)
    assert submitted["type"] == "review_submitted"
    assert flagged["type"] == "bad_review_flagged"
    [rectification] = listed["items"]
    assert flagged["payload"] == {
        "review_id": result["review_id"],
        "rectification_id": rectification["rectification_id"],
        "application_id": application_id,
        "department_code": DEPARTMENT,
        "grade": 1,
        "verify_due": rectification["verify_due"],
    }
    assert rectification["state"] == "awaiting_verification"
    assert count(engine, orm.rectifications, application_id=application_id) == 1

    with ServiceRpcProxy("ratings", config) as proxy:
        proxy.verify_rectification(
            actor=CLERK,
            rectification_id=rectification["rectification_id"],
            decision="deadline",
            plan="完善窗口服务规范",
        )
        resolved = proxy.resolve_rectification(
            actor=CLERK, rectification_id=rectification["rectification_id"], comment="已电话回访"
        )
    assert resolved["state"] == "resolved"
    [closed] = ratings_events.take(1)
    assert closed["type"] == "rectification_resolved"
    assert closed["payload"]["resolved_by"] == "u-clerk"


def test_another_users_review_is_forbidden(ratings, config, amqp_uri, engine):
    application_id = completed_case(ratings, amqp_uri)

    with ServiceRpcProxy("ratings", config) as proxy:
        with pytest.raises(Forbidden):
            proxy.submit_review(actor=citizen("u-intruder"), application_id=application_id, grade=5)

    assert count(engine, orm.reviews) == 0


def test_errors_cross_rpc_as_their_types_with_their_fields(ratings, config, amqp_uri):
    application_id = completed_case(ratings, amqp_uri)

    with ServiceRpcProxy("ratings", config) as proxy:
        with pytest.raises(Invalid) as invalid:
            proxy.submit_review(
                actor=citizen("u-applicant-0042"), application_id=application_id, grade="5"
            )
        with pytest.raises(Invalid) as bad_page:
            proxy.list_store_reviews(store_id="store-nj-msa", page="first")
        with pytest.raises(Invalid) as empty_filter:
            proxy.stats(region="")
        with pytest.raises(Conflict) as not_completed:
            proxy.submit_review(
                actor=citizen("u-applicant-0042"), application_id="app-not-completed", grade=5
            )
        proxy.submit_review(
            actor=citizen("u-applicant-0042"), application_id=application_id, grade=5
        )
        with pytest.raises(Conflict) as reviewed:
            proxy.submit_review(
                actor=citizen("u-applicant-0042"), application_id=application_id, grade=4
            )
        with pytest.raises(Forbidden):
            proxy.list_rectifications(actor=citizen("u-applicant-0042"))

    assert invalid.value.fields == {"grade": "must be an integer from 1 to 5"}
    assert set(bad_page.value.fields) == {"page"}
    assert set(empty_filter.value.fields) == {"region"}
    assert not_completed.value.message == "the case has not ended yet"
    assert reviewed.value.code == "already_reviewed"


def test_stats_over_rpc(ratings, config, amqp_uri):
    first = completed_case(ratings, amqp_uri, applicant_id="u-a")
    second = completed_case(ratings, amqp_uri, applicant_id="u-b", region_code="320106")

    with ServiceRpcProxy("ratings", config) as proxy:
        # The stats are the indicators', counted from the reviews' events.
        for user, application_id, grade in [("u-a", first, 5), ("u-b", second, 2)]:
            with entrypoint_waiter(ratings, "count_review_submitted"):
                proxy.submit_review(actor=citizen(user), application_id=application_id, grade=grade)
        everything = proxy.stats()
        nanjing_gulou = proxy.stats(region="320106")

    overall = everything["overall"]
    assert (overall["reviews"], overall["praise_rate"], overall["average_grade"]) == (2, 0.5, 3.5)
    assert [r["region_code"] for r in everything["regions"]] == ["320102", "320106"]
    assert nanjing_gulou["overall"]["reviews"] == 1
    assert nanjing_gulou["stores"][0]["rating"]["praise_rate"] == 0.0


def test_readiness_checks_the_database_and_the_broker(ratings, config):
    response = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/readyz", timeout=5)

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def scrape(config) -> dict:
    """{metric name: {labels: value}} of the ratings gauges, from the process's /metrics."""
    response = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/metrics", timeout=5)
    assert response.status_code == 200
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(response.text)
        if family.name in ("tongban_ratings_reviews", "tongban_ratings_praise_rate")
    }


NO_REVIEWS = {(("grade", str(grade)),): 0.0 for grade in range(1, 6)}


def ratings_reading_every(seconds, container_factory, config):
    """A ratings container whose gauges are read at most once per ``seconds``."""
    config = {**config, "METRICS_READ_SECONDS": seconds}
    container = container_factory(RatingsService, config)
    container.start()
    return container, config


def test_metrics_count_reviews_per_grade_and_the_praise_rate(container_factory, config, amqp_uri):
    ratings, config = ratings_reading_every(0, container_factory, config)
    assert scrape(config) == {
        "tongban_ratings_reviews": NO_REVIEWS,
        "tongban_ratings_praise_rate": {},  # no review, no rate
    }

    graded = [("u-a", 5, "320102"), ("u-b", 4, "320106"), ("u-c", 2, "320102")]
    cases = [
        (user, grade, completed_case(ratings, amqp_uri, applicant_id=user, region_code=region))
        for user, grade, region in graded
    ]
    with ServiceRpcProxy("ratings", config) as proxy:
        for user, grade, application_id in cases:
            # The praise rate is the indicators', counted from the review's event.
            with entrypoint_waiter(ratings, "count_review_submitted"):
                proxy.submit_review(actor=citizen(user), application_id=application_id, grade=grade)

    assert scrape(config) == {
        "tongban_ratings_reviews": {
            **NO_REVIEWS,
            (("grade", "2"),): 1.0,
            (("grade", "4"),): 1.0,
            (("grade", "5"),): 1.0,
        },
        # Two of three reviews are praise (grade 4 or 5).
        "tongban_ratings_praise_rate": {(): 0.6667},
    }


def test_metrics_are_read_at_most_once_per_metrics_read_seconds(
    container_factory, config, amqp_uri
):
    ratings, config = ratings_reading_every(60, container_factory, config)
    assert scrape(config)["tongban_ratings_reviews"] == NO_REVIEWS
    application_id = completed_case(ratings, amqp_uri)
    with ServiceRpcProxy("ratings", config) as proxy:
        proxy.submit_review(
            actor=citizen("u-applicant-0042"), application_id=application_id, grade=5
        )

    # Still the first reading: the database is not asked again within the minute.
    assert scrape(config) == {
        "tongban_ratings_reviews": NO_REVIEWS,
        "tongban_ratings_praise_rate": {},
    }
