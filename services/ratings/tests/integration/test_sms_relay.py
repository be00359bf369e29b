"""Texts to citizens on PostgreSQL and the real broker: queuing races, relay
passes racing each other, and the ratings service's timer texting through the
SMS simulator."""

import threading
import time
from datetime import UTC, datetime

import pytest
from nameko.testing.utils import find_free_port
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.ratings.adapters import orm
from services.ratings.domain.sms import SENT
from services.ratings.service import RatingsService
from services.ratings.service_layer.sms import RelaySettings, relay_messages
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork
from simulators.sms.app import SimulatorServer

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PHONE = "13800000001"
API_KEY = "test-sms-api-key"


@pytest.fixture
def database_url(database_factory, monkeypatch):
    monkeypatch.delenv("RATINGS_DATABASE_URL", raising=False)
    url = database_factory("ratings_sms")
    engine = make_engine(url)
    # The tables as adapters/orm.py declares them (what the migration creates).
    orm.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def new_uow(database_url):
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield lambda: RatingsUnitOfWork(factory, source="ratings")
    engine.dispose()


def queue(uow, message_id, now=NOW):
    with uow:
        uow.sms.queue(message_id, PHONE, f"text of {message_id}", now=now)
        uow.commit()


def test_two_transactions_queuing_one_message_both_commit_and_it_is_queued_once(new_uow):
    first = new_uow()
    second_done = threading.Event()
    failures = []

    def second():
        try:
            with new_uow() as uow:
                # Waits for the first transaction, then finds the row: no error.
                uow.sms.queue("visit-1", PHONE, "second", now=NOW)
                uow.commit()
        except Exception as error:  # noqa: BLE001  (reported below)
            failures.append(error)
        finally:
            second_done.set()

    with first:
        first.sms.queue("visit-1", PHONE, "first", now=NOW)
        thread = threading.Thread(target=second)
        thread.start()
        assert not second_done.wait(0.3)  # held by the first transaction's row
        first.commit()
    thread.join(10)
    assert second_done.is_set() and failures == []
    with new_uow() as uow:
        assert uow.sms.get("visit-1").text == "first"
        assert uow.sms.count_pending() == 1


class SlowGateway:
    """Takes every message, slowly, and counts each message it was asked to send."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent: dict[str, int] = {}

    def send(self, idempotency_key, phone, text):
        time.sleep(0.02)
        with self.lock:
            self.sent[idempotency_key] = self.sent.get(idempotency_key, 0) + 1
        return {"message_id": f"SM-{idempotency_key}", "status": "sent"}


def test_passes_racing_each_other_send_each_message_once(new_uow):
    for n in range(30):
        queue(new_uow(), f"visit-{n}")
    gateway = SlowGateway()
    settings = RelaySettings(batch_size=10)
    failures = []

    def passes():
        try:
            for _ in range(6):
                relay_messages(new_uow(), gateway, settings=settings, clock=lambda: NOW)
        except Exception as error:  # noqa: BLE001  (reported below)
            failures.append(error)

    threads = [threading.Thread(target=passes) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert gateway.sent == {f"visit-{n}": 1 for n in range(30)}
    with new_uow() as uow:
        assert uow.sms.count_pending() == 0
        assert {uow.sms.get(f"visit-{n}").state for n in range(30)} == {SENT}


def test_the_service_texts_what_is_queued_through_the_gateway(
    container_factory, amqp_uri, database_url, new_uow
):
    with SimulatorServer("127.0.0.1", 0, api_key=API_KEY) as gateway:
        container = container_factory(
            RatingsService,
            {
                "AMQP_URI": amqp_uri,
                "DATABASE_URL": database_url,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
                "SMS_URL": gateway.url,
                "SMS_API_KEY": API_KEY,
                "SMS_RELAY_SECONDS": "0.05",
            },
        )
        container.start()
        with new_uow() as uow:
            uow.sms.queue("visit-1", PHONE, "请为本次办事评价")
            uow.commit()
        deadline = time.monotonic() + 10
        while not gateway.messages.inbox(PHONE) and time.monotonic() < deadline:
            time.sleep(0.05)
        container.stop()
        (received,) = gateway.messages.inbox(PHONE)
    assert received.text == "请为本次办事评价"
    with new_uow() as uow:
        message = uow.sms.get("visit-1")
    assert (message.state, message.phone, message.text) == (SENT, "138****0001", None)
    assert message.gateway_message_id == received.message_id
