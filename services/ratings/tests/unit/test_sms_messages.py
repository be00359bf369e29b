"""The rules of a text message to a citizen (services/ratings/domain/sms.py),
with no database: queuing, attempts, retries, giving up, and what is kept."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import Invalid
from services.ratings.domain.sms import (
    ATTEMPT_LEASE,
    FAILED,
    MAX_RETRY_DELAY,
    PENDING,
    SENT,
    TextMessage,
    is_mobile,
    mask_phone,
    mask_phones,
    retry_delay,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PHONE = "13800000001"
TEXT = "【江苏政务服务】请为本次办事评价 http://127.0.0.1:8000/rate?token=secret-token"


def queued(**changes) -> TextMessage:
    arguments = {"message_id": "visit-1", "phone": PHONE, "text": TEXT, "now": NOW, **changes}
    return TextMessage.queue(**arguments)


def test_a_queued_message_is_pending_and_due_at_once():
    message = queued()
    assert (message.state, message.attempts, message.next_attempt_at) == (PENDING, 0, None)
    assert message.queued_at == NOW
    assert message.is_due(NOW) and message.is_due(NOW - timedelta(days=1))


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"message_id": ""}, {"message_id"}),
        ({"message_id": "v" * 65}, {"message_id"}),
        ({"phone": "12800000001"}, {"phone"}),
        ({"phone": "1380000000"}, {"phone"}),
        ({"phone": "138000000012"}, {"phone"}),
        ({"phone": " 13800000001"}, {"phone"}),
        ({"phone": "+8613800000001"}, {"phone"}),
        ({"phone": None}, {"phone"}),
        ({"text": ""}, {"text"}),
        ({"text": "  \n"}, {"text"}),
        ({"text": "x" * 501}, {"text"}),
        ({"phone": "0255551234", "text": ""}, {"phone", "text"}),
    ],
)
def test_a_message_that_cannot_be_sent_is_invalid_naming_each_field(changes, fields):
    with pytest.raises(Invalid) as raised:
        queued(**changes)
    assert set(raised.value.fields) == fields
    assert PHONE not in str(raised.value)


def test_the_longest_text_and_id_are_taken():
    message = queued(message_id="v" * 64, text="评" * 500)
    assert len(message.text) == 500


def test_now_must_carry_its_zone():
    with pytest.raises(ValueError):
        queued(now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [("13800000001", True), ("19912345678", True), ("12012345678", False), ("1380000000a", False)],
)
def test_mainland_mobile_numbers(phone, mobile):
    assert is_mobile(phone) is mobile


def test_phones_are_masked_alone_and_inside_text():
    assert mask_phone("13800000001") == "138****0001"
    assert mask_phones("to 13800000001 and 13900000002.") == "to 138****0001 and 139****0002."
    # Longer digit runs (an ID number, an order number) are not phones.
    assert mask_phones("320104198503120314 x138000000012") == "320104198503120314 x138000000012"


def test_an_attempt_is_counted_when_it_starts_and_leases_the_message():
    message = queued()
    message.start_attempt(NOW)
    assert message.attempts == 1
    assert message.next_attempt_at == NOW + ATTEMPT_LEASE
    assert not message.is_due(NOW + ATTEMPT_LEASE - timedelta(seconds=1))
    assert message.is_due(NOW + ATTEMPT_LEASE)


def test_a_sent_message_keeps_the_phone_masked_and_drops_the_text():
    message = queued()
    message.start_attempt(NOW)
    message.mark_sent("SM123", NOW + timedelta(seconds=1))
    assert message.state == SENT
    assert message.sent_at == NOW + timedelta(seconds=1)
    assert message.gateway_message_id == "SM123"
    assert (message.phone, message.text, message.next_attempt_at) == ("138****0001", None, None)
    assert not message.is_due(NOW + timedelta(days=1))


def test_retries_back_off_doubling_up_to_the_cap():
    assert [retry_delay(n, 10).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert retry_delay(30, 10) == MAX_RETRY_DELAY
    assert retry_delay(10_000, 10) == MAX_RETRY_DELAY
    with pytest.raises(ValueError):
        retry_delay(0)


def test_an_unreachable_gateway_means_another_try_later_until_the_last_attempt():
    message = queued()
    now = NOW
    for attempt in range(1, 3):
        message.start_attempt(now)
        gave_up = message.mark_attempt_failed(
            "timed out for 13800000001", now, max_attempts=3, retry_seconds=10
        )
        assert not gave_up and message.state == PENDING
        assert message.next_attempt_at == now + timedelta(seconds=10 * 2 ** (attempt - 1))
        assert message.last_error == "timed out for 138****0001"
        assert message.phone == PHONE and message.text == TEXT
        now = message.next_attempt_at
    message.start_attempt(now)
    assert message.mark_attempt_failed("still down", now, max_attempts=3, retry_seconds=10)
    assert (message.state, message.failed_at, message.next_attempt_at) == (FAILED, now, None)
    assert (message.phone, message.text) == ("138****0001", None)
    assert message.last_error == "still down"


def test_a_refusal_is_final_at_once():
    message = queued()
    message.start_attempt(NOW)
    message.mark_refused("phone: not a mobile number " + "x" * 300, NOW)
    assert (message.state, message.attempts, message.failed_at) == (FAILED, 1, NOW)
    assert len(message.last_error) == 200
    assert (message.phone, message.text) == ("138****0001", None)


@pytest.mark.parametrize(
    "act",
    [
        lambda m: m.start_attempt(NOW),
        lambda m: m.mark_sent("SM2", NOW),
        lambda m: m.mark_attempt_failed("x", NOW),
        lambda m: m.mark_refused("x", NOW),
    ],
)
def test_a_message_sent_or_failed_takes_no_further_step(act):
    sent = queued()
    sent.mark_sent("SM1", NOW)
    failed = queued()
    failed.mark_refused("no", NOW)
    for message in (sent, failed):
        with pytest.raises(ValueError):
            act(message)


def test_its_repr_shows_neither_the_phone_nor_the_text():
    message = queued()
    assert PHONE not in repr(message) and "secret-token" not in repr(message)
    assert "138****0001" in repr(message)
