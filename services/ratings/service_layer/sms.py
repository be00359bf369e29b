"""The SMS relay: sends the text messages queued with ``uow.sms.queue`` to the
SMS gateway, by the rules of ``services.ratings.domain.sms``.

A pass (:func:`relay_messages`, run by the ratings service's timer every
SMS_RELAY_SECONDS) takes the due messages one at a time: it starts an attempt
in a short transaction, sends with no transaction open (a slow gateway holds no
database lock), then saves the outcome in a transaction of its own. Several
ratings processes may run passes at once: starting an attempt is a
compare-and-set on the message's count of attempts, so each attempt belongs to
one pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.common.errors import Invalid, Unavailable
from services.ratings import metrics
from services.ratings.domain.sms import MAX_ATTEMPTS, RETRY_SECONDS, TextMessage

log = logging.getLogger(__name__)

DEFAULT_RELAY_SECONDS = 1.0
# Messages one pass starts; the rest wait for the next pass.
BATCH_SIZE = 50
MAX_SETTING_ATTEMPTS = 100
# Messages one pass passes over because other passes took them first, at most.
MAX_CLAIM_TRIES = 20

SENT = "sent"
RETRIED = "retried"
FAILED = "failed"


class Gateway(Protocol):
    """What the relay needs of the SMS client (``adapters.sms.SmsClient``):
    Invalid when the gateway refuses a message, Unavailable when it cannot be
    reached."""

    def send(self, idempotency_key: str, phone: str, text: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class RelaySettings:
    """How the relay runs; :meth:`from_config` reads them from the service's config."""

    interval_seconds: float = DEFAULT_RELAY_SECONDS
    max_attempts: int = MAX_ATTEMPTS
    retry_seconds: float = RETRY_SECONDS
    batch_size: int = BATCH_SIZE

    @classmethod
    def from_config(cls, config: Mapping) -> RelaySettings:
        """SMS_RELAY_SECONDS (seconds between passes, default 1), SMS_MAX_ATTEMPTS
        (attempts before a message is given up, 1..100, default 8) and
        SMS_RETRY_SECONDS (the first retry's delay, doubling after, default 10);
        missing or empty: the default. ValueError naming the setting otherwise."""
        return cls(
            interval_seconds=_seconds(config, "SMS_RELAY_SECONDS", DEFAULT_RELAY_SECONDS),
            max_attempts=_whole(config, "SMS_MAX_ATTEMPTS", MAX_ATTEMPTS, MAX_SETTING_ATTEMPTS),
            retry_seconds=_seconds(config, "SMS_RETRY_SECONDS", RETRY_SECONDS),
        )


def _seconds(config: Mapping, name: str, default: float) -> float:
    value = config.get(name)
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 < seconds <= 86_400:
        raise ValueError(
            f"{name} must be a number of seconds above 0, at most 86400; got {value!r}"
        )
    return seconds


def _whole(config: Mapping, name: str, default: int, most: int) -> int:
    value = config.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= most:
        raise ValueError(f"{name} must be a whole number 1..{most}; got {value!r}")
    return int(text)


def relay_messages(
    uow,
    gateway: Gateway,
    *,
    settings: RelaySettings,
    clock: Callable[[], datetime],
) -> dict[str, int]:
    """Send the messages that are due, the longest waiting first, at most
    ``settings.batch_size``; how many were sent, retried later and failed.

    The pass stops at the first message the gateway could not be reached for:
    the others wait for the next pass instead of each waiting out the same
    outage (and each spending an attempt on it). ``clock()`` is the current
    instant (the process clock in service).
    """
    outcomes = {SENT: 0, RETRIED: 0, FAILED: 0}
    for _ in range(settings.batch_size):
        started = _start_next_attempt(uow, clock())
        if started is None:
            break
        message, attempts_seen = started
        outcome, unreachable = _send(gateway, message, settings, clock)
        with uow:
            saved = uow.sms.save(message, attempts_seen=attempts_seen)
            uow.commit()
        if saved:
            outcomes[outcome] += 1
            metrics.SMS_MESSAGES.labels(outcome).inc()
        else:
            # Only when this attempt outlived its lease and another pass took over.
            log.warning(
                "text message outcome not saved: another attempt started meanwhile",
                extra={"message_id": message.message_id},
            )
        if unreachable:
            break
    return outcomes


def _start_next_attempt(uow, now: datetime) -> tuple[TextMessage, int] | None:
    """Start an attempt on the message due longest, in a transaction of its own;
    the message with its count of attempts as saved, or None when none is due.
    A message another pass started an attempt on first is passed over."""
    with uow:
        for _ in range(MAX_CLAIM_TRIES):
            due = uow.sms.due(now, 1)
            if not due:
                return None
            (message,) = due
            seen = message.attempts
            message.start_attempt(now)
            if uow.sms.save(message, attempts_seen=seen):
                uow.commit()
                return message, message.attempts
    return None


def _send(
    gateway: Gateway, message: TextMessage, settings: RelaySettings, clock: Callable[[], datetime]
) -> tuple[str, bool]:
    """One attempt at ``message``, its outcome recorded on the message: the
    outcome, and whether the gateway could not be reached."""
    context = {"message_id": message.message_id, "attempt": message.attempts}
    try:
        answer = gateway.send(message.message_id, message.phone, message.text)
    except Invalid as refusal:
        message.mark_refused(str(refusal), clock())
        log.warning("the SMS gateway refused a text message: %s", refusal, extra=context)
        return FAILED, False
    except Unavailable as error:
        gave_up = message.mark_attempt_failed(
            str(error),
            clock(),
            max_attempts=settings.max_attempts,
            retry_seconds=settings.retry_seconds,
        )
        if gave_up:
            log.warning(
                "gave up on a text message after %d attempts: %s",
                message.attempts,
                error,
                extra=context,
            )
            return FAILED, True
        log.info(
            "text message not sent; trying again at %s: %s",
            message.next_attempt_at.isoformat(),
            error,
            extra=context,
        )
        return RETRIED, True
    message.mark_sent(answer["message_id"], clock())
    log.info("text message sent", extra=context)
    return SENT, False


def count_pending(uow) -> int:
    """Text messages not yet sent nor given up (the relay's backlog)."""
    with uow:
        return uow.sms.count_pending()
