"""The SMS relay (services/ratings/service_layer/sms.py) on a SQLite unit of work:
``uow.sms.queue`` in a use case's transaction, then passes of the relay against a
fake gateway and against the SMS simulator."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.errors import Invalid, Unavailable
from services.ratings import metrics
from services.ratings.adapters import orm
from services.ratings.adapters.sms import SmsClient
from services.ratings.domain.sms import ATTEMPT_LEASE, FAILED, PENDING, SENT
from services.ratings.service_layer.sms import RelaySettings, count_pending, relay_messages
from simulators.sms.app import SimulatorServer

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PHONE = "13800000001"
TEXT = "【江苏政务服务】请为本次办事评价 http://127.0.0.1:8000/rate?token=secret-token"
SETTINGS = RelaySettings(max_attempts=3, retry_seconds=10)


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now

    def move(self, **delta):
        self.now += timedelta(**delta)


class FakeGateway:
    """Answers each send with the next of ``answers`` (an exception is raised);
    once they run out, it takes every message."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, idempotency_key, phone, text):
        self.sent.append((idempotency_key, phone, text))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer or {"message_id": f"SM{len(self.sent)}", "status": "sent"}


@pytest.fixture
def clock():
    return Clock()


def queue(uow, message_id="visit-1", phone=PHONE, text=TEXT, now=NOW):
    with uow:
        uow.sms.queue(message_id, phone, text, now=now)
        uow.commit()


def stored(uow, message_id="visit-1"):
    with uow:
        return uow.sms.get(message_id)


def relay(uow, gateway, clock, settings=SETTINGS):
    return relay_messages(uow, gateway, settings=settings, clock=clock)


def counted(outcome):
    return metrics.SMS_MESSAGES.labels(outcome)._value.get()


# --- queuing ----------------------------------------------------------------------


def test_a_queued_message_is_sent_at_the_next_pass_then_kept_masked(uow, clock):
    queue(uow)
    gateway = FakeGateway()
    sent_before = counted("sent")

    assert relay(uow, gateway, clock) == {"sent": 1, "retried": 0, "failed": 0}

    assert gateway.sent == [("visit-1", PHONE, TEXT)]
    message = stored(uow)
    assert (message.state, message.attempts, message.sent_at) == (SENT, 1, NOW)
    assert message.gateway_message_id == "SM1"
    assert (message.phone, message.text) == ("138****0001", None)
    assert counted("sent") == sent_before + 1
    # Nothing is left to send.
    assert relay(uow, gateway, clock) == {"sent": 0, "retried": 0, "failed": 0}
    assert len(gateway.sent) == 1


def test_neither_the_phone_nor_the_text_stays_in_the_table_once_sent(uow, clock):
    queue(uow)
    relay(uow, FakeGateway(), clock)
    with uow:
        rows = uow.session.execute(sa.select(orm.sms_messages)).mappings().all()
    assert PHONE not in str(rows) and "secret-token" not in str(rows)


def test_queuing_an_id_again_changes_nothing(uow, clock):
    queue(uow)
    queue(uow, text="another text", now=NOW + timedelta(hours=1))
    message = stored(uow)
    assert (message.text, message.queued_at) == (TEXT, NOW)
    relay(uow, FakeGateway(), clock)
    queue(uow)  # after it was sent: still nothing
    assert stored(uow).state == SENT
    assert count_pending(uow) == 0


def test_a_message_queued_in_a_transaction_that_rolls_back_is_never_sent(uow, clock):
    with uow:
        uow.sms.queue("visit-1", PHONE, TEXT, now=NOW)
        # no commit: the use case failed after queuing
    gateway = FakeGateway()
    relay(uow, gateway, clock)
    assert gateway.sent == [] and stored(uow) is None


def test_a_message_that_cannot_be_sent_is_refused_when_queued(uow):
    with uow:
        with pytest.raises(Invalid) as raised:
            uow.sms.queue("visit-1", "12345", TEXT)
    assert set(raised.value.fields) == {"phone"}


def test_the_process_clock_stamps_a_message_when_no_instant_is_given(uow, monkeypatch):
    monkeypatch.setattr("services.common.clock.now", lambda: NOW)
    with uow:
        uow.sms.queue("visit-1", PHONE, TEXT)
        uow.commit()
    assert stored(uow).queued_at == NOW


def test_the_longest_waiting_go_first_and_a_pass_takes_a_batch(uow, clock):
    for n in range(5):
        queue(uow, f"visit-{n}", now=NOW - timedelta(minutes=n))
    gateway = FakeGateway()
    settings = RelaySettings(batch_size=2)

    assert relay(uow, gateway, clock, settings)["sent"] == 2
    assert [key for key, _, _ in gateway.sent] == ["visit-4", "visit-3"]
    assert count_pending(uow) == 3
    relay(uow, gateway, clock, settings)
    relay(uow, gateway, clock, settings)
    assert [key for key, _, _ in gateway.sent][2:] == ["visit-2", "visit-1", "visit-0"]


# --- failures ---------------------------------------------------------------------


def test_an_unreachable_gateway_is_tried_again_with_backoff_then_given_up(uow, clock, caplog):
    queue(uow)
    gateway = FakeGateway(*[Unavailable("SMS gateway POST /api/messages answered 503")] * 3)
    failed_before = counted("failed")

    assert relay(uow, gateway, clock) == {"sent": 0, "retried": 1, "failed": 0}
    message = stored(uow)
    assert (message.state, message.attempts) == (PENDING, 1)
    assert message.next_attempt_at == NOW + timedelta(seconds=10)
    assert message.last_error.endswith("503")

    # Not due before its time.
    clock.move(seconds=9)
    assert relay(uow, gateway, clock)["retried"] == 0
    clock.move(seconds=1)
    assert relay(uow, gateway, clock)["retried"] == 1
    assert stored(uow).next_attempt_at == clock.now + timedelta(seconds=20)

    clock.move(seconds=20)
    with caplog.at_level(logging.INFO, logger="services.ratings.service_layer.sms"):
        assert relay(uow, gateway, clock) == {"sent": 0, "retried": 0, "failed": 1}
    message = stored(uow)
    assert (message.state, message.attempts, message.failed_at) == (FAILED, 3, clock.now)
    assert (message.phone, message.text) == ("138****0001", None)
    assert [key for key, _, _ in gateway.sent] == ["visit-1"] * 3
    assert counted("failed") == failed_before + 1
    # Given up is a warning for the operator, not an error with a traceback.
    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in gave_up] == [(logging.WARNING, None)]
    assert gave_up[0].message_id == "visit-1"
    assert all(PHONE not in r.getMessage() for r in caplog.records)
    clock.move(days=1)
    assert relay(uow, gateway, clock) == {"sent": 0, "retried": 0, "failed": 0}


def test_a_message_that_recovers_is_sent_on_a_later_attempt(uow, clock):
    queue(uow)
    gateway = FakeGateway(Unavailable("down"))
    relay(uow, gateway, clock)
    clock.move(seconds=10)
    assert relay(uow, gateway, clock)["sent"] == 1
    assert (stored(uow).state, stored(uow).attempts, stored(uow).last_error) == (SENT, 2, None)


def test_a_refusal_fails_the_message_at_once_with_a_warning(uow, clock, caplog):
    queue(uow)
    gateway = FakeGateway(Invalid("refused 13800000001", {"phone": "not ours"}))
    with caplog.at_level(logging.WARNING, logger="services.ratings.service_layer.sms"):
        assert relay(uow, gateway, clock) == {"sent": 0, "retried": 0, "failed": 1}
    message = stored(uow)
    assert (message.state, message.attempts) == (FAILED, 1)
    assert "13800000001" not in message.last_error
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_a_pass_stops_at_the_first_text_the_gateway_could_not_be_reached_for(uow, clock):
    for n in range(3):
        queue(uow, f"visit-{n}", now=NOW + timedelta(seconds=n))
    gateway = FakeGateway(Unavailable("down"))

    assert relay(uow, gateway, clock) == {"sent": 0, "retried": 1, "failed": 0}

    # The others spent no attempt on the same outage; the next pass sends them.
    assert [key for key, _, _ in gateway.sent] == ["visit-0"]
    assert [stored(uow, f"visit-{n}").attempts for n in range(3)] == [1, 0, 0]
    assert relay(uow, gateway, clock) == {"sent": 2, "retried": 0, "failed": 0}
    clock.move(seconds=10)
    assert relay(uow, gateway, clock) == {"sent": 1, "retried": 0, "failed": 0}


def test_a_refusal_does_not_stop_the_pass(uow, clock):
    queue(uow, "visit-0", now=NOW)
    queue(uow, "visit-1", now=NOW + timedelta(seconds=1))
    gateway = FakeGateway(Invalid("no such number"))
    assert relay(uow, gateway, clock) == {"sent": 1, "retried": 0, "failed": 1}


def test_a_bug_in_the_gateway_is_not_swallowed_and_the_attempt_is_taken_up_after_its_lease(
    uow, clock
):
    queue(uow)
    with pytest.raises(RuntimeError):
        relay(uow, FakeGateway(RuntimeError("bug")), clock)
    message = stored(uow)
    assert (message.state, message.attempts) == (PENDING, 1)
    clock.move(seconds=ATTEMPT_LEASE.total_seconds() - 1)
    gateway = FakeGateway()
    assert relay(uow, gateway, clock)["sent"] == 0
    clock.move(seconds=1)
    assert relay(uow, gateway, clock)["sent"] == 1
    assert stored(uow).attempts == 2


# --- several relays at once ---------------------------------------------------------


def test_two_passes_never_send_one_message_at_the_same_time(uow, clock):
    queue(uow)
    # The other pass read the message as due, then this pass started its attempt.
    with uow:
        seen_by_other = uow.sms.due(NOW, 10)
    relay(uow, FakeGateway(Unavailable("down")), clock)
    with uow:
        (message,) = seen_by_other
        attempts_seen = message.attempts
        message.start_attempt(NOW)
        assert uow.sms.save(message, attempts_seen=attempts_seen) is False
        uow.commit()
    assert stored(uow).attempts == 1


def test_an_outcome_is_not_saved_over_a_later_attempt(uow, clock, caplog):
    queue(uow)

    class SlowGateway(FakeGateway):
        """While this attempt runs past its lease, another pass sends the message."""

        def send(self, idempotency_key, phone, text):
            other = Clock(NOW + ATTEMPT_LEASE)
            relay(uow, FakeGateway(), other)
            return super().send(idempotency_key, phone, text)

    with caplog.at_level(logging.WARNING, logger="services.ratings.service_layer.sms"):
        assert relay(uow, SlowGateway(Unavailable("late")), clock)["retried"] == 0
    message = stored(uow)
    assert (message.state, message.attempts) == (SENT, 2)
    assert any("not saved" in r.getMessage() for r in caplog.records)


# --- settings -----------------------------------------------------------------------


def test_settings_default_when_missing_or_empty():
    assert RelaySettings.from_config({}) == RelaySettings(
        interval_seconds=1.0, max_attempts=8, retry_seconds=10.0
    )
    empty = {"SMS_RELAY_SECONDS": "", "SMS_MAX_ATTEMPTS": "", "SMS_RETRY_SECONDS": None}
    assert RelaySettings.from_config(empty) == RelaySettings()


def test_settings_are_read_from_the_config():
    settings = RelaySettings.from_config(
        {"SMS_RELAY_SECONDS": "0.2", "SMS_MAX_ATTEMPTS": 3, "SMS_RETRY_SECONDS": "30"}
    )
    assert (settings.interval_seconds, settings.max_attempts, settings.retry_seconds) == (
        0.2,
        3,
        30.0,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMS_RELAY_SECONDS", "0"),
        ("SMS_RELAY_SECONDS", "-1"),
        ("SMS_RELAY_SECONDS", "soon"),
        ("SMS_RELAY_SECONDS", "nan"),
        ("SMS_RELAY_SECONDS", "inf"),
        ("SMS_MAX_ATTEMPTS", "0"),
        ("SMS_MAX_ATTEMPTS", "101"),
        ("SMS_MAX_ATTEMPTS", "2.5"),
        ("SMS_MAX_ATTEMPTS", "８"),
        ("SMS_RETRY_SECONDS", "0"),
        ("SMS_RETRY_SECONDS", "86401"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(name, value):
    with pytest.raises(ValueError, match=name):
        RelaySettings.from_config({name: value})


# --- through the simulator --------------------------------------------------------


def test_through_the_simulator_the_text_reaches_the_phone_once_despite_an_outage(uow, clock):
    queue(uow)
    with (
        SimulatorServer("127.0.0.1", 0, api_key="k") as gateway,
        SmsClient(gateway.url, "k", timeout=(1, 2), retries=0, backoff_factor=0) as client,
    ):
        gateway.messages.set_down(True)
        assert relay(uow, client, clock)["retried"] == 1
        assert gateway.messages.inbox(PHONE) == []

        gateway.messages.set_down(False)
        clock.move(seconds=10)
        assert relay(uow, client, clock)["sent"] == 1
        # A repeat of the same message id (a crashed pass, say) texts nobody twice.
        client.send("visit-1", PHONE, TEXT)
        (received,) = gateway.messages.inbox(PHONE)
    assert received.text == TEXT
    assert stored(uow).gateway_message_id == received.message_id


# --- the backlog gauge -------------------------------------------------------------


def test_the_backlog_gauge_counts_texts_not_yet_taken(uow, clock):
    from services.ratings.service_layer.gauges import gauges

    (backlog,) = [
        r for r in gauges(lambda: uow, "ratings") if r.name == "tongban_ratings_sms_pending"
    ]
    assert backlog.labels == () and backlog.read() == [((), 0)]
    queue(uow, "visit-1")
    queue(uow, "visit-2")
    relay(uow, FakeGateway(Unavailable("down")), clock, RelaySettings(batch_size=1))
    # One is waiting for its retry, one was never tried: both are backlog.
    assert backlog.read() == [((), 2)]
    clock.move(minutes=1)
    relay(uow, FakeGateway(), clock)
    assert backlog.read() == [((), 0)]
