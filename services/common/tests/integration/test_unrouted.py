"""An event no queue takes comes back from the broker: counted every time,
a warning only the first time a publisher meets its type."""

import logging
import uuid

from services.common.messaging.publisher import ConfirmingPublisher, OutgoingMessage

LOGGER = "services.common.messaging.publisher"


def event(event_type: str) -> OutgoingMessage:
    event_id = uuid.uuid4().hex
    return OutgoingMessage(
        exchange="unrouted-tests.events",
        routing_key=event_type,
        body={"id": event_id, "type": event_type},
        message_id=event_id,
        message_type=event_type,
        headers={},
    )


def test_each_unrouted_type_is_warned_of_once_and_counted_every_time(amqp_uri, caplog):
    publisher = ConfirmingPublisher(amqp_uri)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    try:
        first = publisher.publish_batch([event("case_approved"), event("case_approved")])
        again = publisher.publish_batch([event("case_approved"), event("case_closed")])
    finally:
        publisher.close()

    assert first == [("unrouted-tests.events", "case_approved")] * 2
    assert again == [
        ("unrouted-tests.events", "case_approved"),
        ("unrouted-tests.events", "case_closed"),
    ]
    said = [
        (record.levelno, record.routing_key)
        for record in caplog.records
        if record.name == LOGGER and record.getMessage() == "event not routed to any queue"
    ]
    assert said == [
        (logging.WARNING, "case_approved"),
        (logging.DEBUG, "case_approved"),
        (logging.DEBUG, "case_approved"),
        (logging.WARNING, "case_closed"),
    ]
