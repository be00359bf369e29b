"""Text messages to citizens (SMS), such as the rating link of a window visit.

Plain Python. The rules:

- A message is queued in the transaction that decides to send it, once per
  ``message_id`` (the caller's own id: a visit's id), to a mainland mobile
  number (11 digits, ``1[3-9]…``) with a text of 1..500 characters.
- The relay sends each pending message whose time has come, with its
  ``message_id`` as the gateway's idempotency key: sending it twice never texts
  the citizen twice. A new message is due at once.
- Each attempt is counted when it starts (:meth:`TextMessage.start_attempt`);
  while it runs, the message is not due again for :data:`ATTEMPT_LEASE`, so two
  relays never send it at the same time, and one that crashed mid-attempt is
  taken up again after the lease.
- An attempt that fails because the gateway could not be reached is retried
  after a delay that doubles from ``retry_seconds`` (at most
  :data:`MAX_RETRY_DELAY`); after ``max_attempts`` attempts the message is
  ``failed`` (given up). A refusal by the gateway (the number or the text) is
  final at once: sending the same again cannot help.
- Once a message is ``sent`` or ``failed``, only its masked phone is kept
  (``138****0001``) and its text is dropped: the text may carry a credential
  (a one-time rating token) that only its recipient should hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.errors import Invalid
from services.common.masking import mask

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATES = (PENDING, SENT, FAILED)

MESSAGE_ID_MAX_LENGTH = 64
MAX_TEXT_LENGTH = 500
# What the gateway said, kept for the operator; never the whole of a long answer.
MAX_ERROR_LENGTH = 200
MAX_ATTEMPTS = 8
RETRY_SECONDS = 10.0
MAX_RETRY_DELAY = timedelta(hours=1)
# Longer than one attempt can take (the client's timeouts and its own quick
# retries add up to well under a minute).
ATTEMPT_LEASE = timedelta(minutes=5)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# A mobile number inside other text (an error message echoing what it refused).
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def is_mobile(phone: object) -> bool:
    """Whether ``phone`` is a mainland mobile number: 11 digits, ``1[3-9]…``."""
    return isinstance(phone, str) and _MOBILE.fullmatch(phone) is not None


def mask_phone(phone: str) -> str:
    """``13800000001`` -> ``138****0001``."""
    return mask(phone, 3, 4)


def mask_phones(text: str) -> str:
    """``text`` with every mobile number in it masked."""
    return _MOBILE_IN_TEXT.sub(r"\1****\3", text)


def retry_delay(attempts: int, retry_seconds: float = RETRY_SECONDS) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: ``retry_seconds``,
    doubling with each attempt, at most :data:`MAX_RETRY_DELAY`."""
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    # Capped before the power grows large.
    doublings = min(attempts - 1, 32)
    return min(timedelta(seconds=retry_seconds * 2**doublings), MAX_RETRY_DELAY)


@dataclass
class TextMessage:
    """One text message to one phone. ``next_attempt_at`` None: due at once.
    ``attempts`` counts the attempts started; it is also the message's version,
    so a relay saves what it did only if nobody started another attempt since."""

    message_id: str
    phone: str
    text: str | None
    queued_at: datetime
    state: str = PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    gateway_message_id: str | None = None
    last_error: str | None = None

    @classmethod
    def queue(cls, message_id: str, phone: str, text: str, now: datetime) -> TextMessage:
        """A new pending message; Invalid naming each bad field."""
        problems = {}
        if not isinstance(message_id, str) or not 0 < len(message_id) <= MESSAGE_ID_MAX_LENGTH:
            problems["message_id"] = f"required, at most {MESSAGE_ID_MAX_LENGTH} characters"
        if not is_mobile(phone):
            problems["phone"] = "must be a mainland mobile number: 11 digits, 1[3-9]…"
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            problems["text"] = f"required, at most {MAX_TEXT_LENGTH} characters"
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if problems:
            raise Invalid("the text message cannot be sent", problems)
        return cls(message_id=message_id, phone=phone, text=text, queued_at=now)

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    def is_due(self, now: datetime) -> bool:
        return self.pending and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def start_attempt(self, now: datetime) -> None:
        """Count an attempt starting at ``now``; not due again while it runs."""
        self._require_pending()
        self.attempts += 1
        self.next_attempt_at = now + ATTEMPT_LEASE

    def mark_sent(self, gateway_message_id: str, now: datetime) -> None:
        """The gateway took the message (``gateway_message_id`` is its own id)."""
        self._require_pending()
        self.state = SENT
        self.sent_at = now
        self.next_attempt_at = None
        self.gateway_message_id = gateway_message_id[:MESSAGE_ID_MAX_LENGTH]
        self.last_error = None
        self._forget_content()

    def mark_attempt_failed(
        self,
        reason: str,
        now: datetime,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> bool:
        """The gateway could not be reached; retried later, or given up after
        ``max_attempts`` attempts. True when given up (the message is failed)."""
        self._require_pending()
        self.last_error = mask_phones(reason)[:MAX_ERROR_LENGTH]
        if self.attempts >= max_attempts:
            self._fail(now)
            return True
        self.next_attempt_at = now + retry_delay(max(self.attempts, 1), retry_seconds)
        return False

    def mark_refused(self, reason: str, now: datetime) -> None:
        """The gateway refused the message: failed at once."""
        self._require_pending()
        self.last_error = mask_phones(reason)[:MAX_ERROR_LENGTH]
        self._fail(now)

    def _fail(self, now: datetime) -> None:
        self.state = FAILED
        self.failed_at = now
        self.next_attempt_at = None
        self._forget_content()

    def _forget_content(self) -> None:
        self.phone = mask_phone(self.phone)
        self.text = None

    def _require_pending(self) -> None:
        if not self.pending:
            raise ValueError(f"text message {self.message_id} is {self.state}, not pending")

    def __repr__(self) -> str:
        phone = self.phone if not self.pending else mask_phone(self.phone)
        return (
            f"TextMessage(message_id={self.message_id!r}, phone={phone!r},"
            f" state={self.state!r}, attempts={self.attempts})"
        )
