"""The ratings service's SMS relay timer: its interval and settings from the
config, checked at start, and a pass run through the worker."""

from datetime import UTC, datetime

import pytest
from nameko.containers import ServiceContainer
from nameko.testing.services import worker_factory
from nameko.testing.utils import get_extension

from services.ratings.adapters.sms_dependency import Sms
from services.ratings.domain.sms import SENT
from services.ratings.service import RatingsService, SmsRelayTimer

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PHONE = "13800000001"


class Gateway:
    def __init__(self):
        self.sent = []

    def send(self, idempotency_key, phone, text):
        self.sent.append((idempotency_key, phone, text))
        return {"message_id": "SM1", "status": "sent"}


def container(config):
    return ServiceContainer(RatingsService, {"AMQP_URI": "memory://", **config})


def test_the_service_relays_with_a_timer_and_an_sms_client():
    built = container({})
    timer = get_extension(built, SmsRelayTimer)
    assert timer is not None and timer.method_name == "relay_text_messages"
    assert get_extension(built, Sms) is not None


@pytest.mark.parametrize(("config", "interval"), [({}, 1.0), ({"SMS_RELAY_SECONDS": "0.2"}, 0.2)])
def test_the_timer_takes_its_interval_from_the_config(config, interval):
    built = container(config)  # an extension refers to its container weakly
    timer = get_extension(built, SmsRelayTimer)
    timer.setup()
    assert timer.interval == interval


@pytest.mark.parametrize(
    "config",
    [{"SMS_RELAY_SECONDS": "0"}, {"SMS_MAX_ATTEMPTS": "none"}, {"SMS_RETRY_SECONDS": "-5"}],
)
def test_a_bad_setting_stops_the_service_at_start(config):
    built = container(config)
    timer = get_extension(built, SmsRelayTimer)
    with pytest.raises(ValueError, match=next(iter(config))):
        timer.setup()


def test_a_pass_sends_what_is_due_by_the_process_clock(uow, monkeypatch):
    monkeypatch.setattr("services.common.clock.now", lambda: NOW)
    with uow:
        uow.sms.queue("visit-1", PHONE, "请评价")
        uow.commit()
    gateway = Gateway()
    service = worker_factory(RatingsService, uow=uow, sms=gateway, config={})

    service.relay_text_messages()

    assert gateway.sent == [("visit-1", PHONE, "请评价")]
    with uow:
        message = uow.sms.get("visit-1")
    assert (message.state, message.sent_at) == (SENT, NOW)
