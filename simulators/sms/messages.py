"""The simulated SMS gateway's messages, in memory: what was sent to each phone,
newest first, and the idempotency key each was sent with.

The same key with the same message is the same message (sent once); the same key
with another message is a conflict. The gateway can be taken down
(``set_down``) so that tests see what an outage looks like. The store keeps the
latest ``capacity`` messages and forgets older ones (with their keys).

Nothing here logs a phone number or a text.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SENT = "sent"
MAX_TEXT_LENGTH = 500
MAX_KEY_LENGTH = 255
DEFAULT_CAPACITY = 10_000
MAX_INBOX = 100

_MOBILE = re.compile(r"1[3-9][0-9]{9}")


class GatewayDown(Exception):
    """The gateway is taken down (``Messages.set_down``): it answers 503."""

    def __init__(self):
        super().__init__("the SMS gateway is unavailable")


class IdempotencyConflict(Exception):
    """An Idempotency-Key came back with another message than the first time."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def phone_problem(value: Any) -> str | None:
    """Why ``value`` is not a mainland mobile number, or None."""
    if not isinstance(value, str) or not _MOBILE.fullmatch(value):
        return "must be a mainland mobile number: 11 digits, 1[3-9]…"
    return None


def check_message(body: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A request's ``{phone, text}``, or the problems by field."""
    if not isinstance(body, dict):
        return {}, {"body": "must be a JSON object"}
    problems = {name: "unknown field" for name in sorted(set(body) - {"phone", "text"})}
    if problem := phone_problem(body.get("phone")):
        problems["phone"] = problem
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        problems["text"] = f"required, 1..{MAX_TEXT_LENGTH} characters"
    if problems:
        return {}, problems
    return {"phone": body["phone"], "text": text}, {}


@dataclass(frozen=True)
class Message:
    message_id: str
    phone: str
    text: str
    sent_at: str
    status: str = SENT

    def receipt(self) -> dict[str, str]:
        """What the sender is told: ``{message_id, status}``."""
        return {"message_id": self.message_id, "status": self.status}

    def in_inbox(self) -> dict[str, str]:
        """The message as the phone's inbox shows it."""
        return {
            "message_id": self.message_id,
            "text": self.text,
            "status": self.status,
            "sent_at": self.sent_at,
        }


class Messages:
    """Every message sent, safe to use from the server's threads."""

    def __init__(
        self, *, clock: Callable[[], datetime] = utc_now, capacity: int = DEFAULT_CAPACITY
    ):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._clock = clock
        self._capacity = capacity
        self._lock = threading.Lock()
        # Idempotency key -> message, oldest first.
        self._by_key: OrderedDict[str, Message] = OrderedDict()
        self._down = False

    def send(self, idempotency_key: str, phone: str, text: str) -> tuple[Message, bool]:
        """The message sent for ``idempotency_key`` and whether it was sent just
        now. ``phone`` and ``text`` must have passed ``check_message``."""
        with self._lock:
            if self._down:
                raise GatewayDown()
            known = self._by_key.get(idempotency_key)
            if known is not None:
                if (known.phone, known.text) != (phone, text):
                    raise IdempotencyConflict(idempotency_key)
                return known, False
            message = Message(
                message_id=f"SM{uuid.uuid4().hex[:20].upper()}",
                phone=phone,
                text=text,
                sent_at=iso_utc(self._clock()),
            )
            self._by_key[idempotency_key] = message
            while len(self._by_key) > self._capacity:
                self._by_key.popitem(last=False)
        return message, True

    def inbox(self, phone: str, limit: int = MAX_INBOX) -> list[Message]:
        """The latest ``limit`` messages sent to ``phone``, newest first."""
        with self._lock:
            sent = [message for message in self._by_key.values() if message.phone == phone]
        return sent[::-1][:limit]

    def set_down(self, down: bool) -> bool:
        """Take the gateway down (sending answers 503) or bring it back."""
        with self._lock:
            self._down = bool(down)
            return self._down

    @property
    def down(self) -> bool:
        return self._down
