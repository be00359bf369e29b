"""Answers of another service kept in a process for a while, to spare an RPC.

A :class:`ReadCache` belongs to one process and is shared by its workers
(eventlet green threads: no locks needed between two yields). It keeps an
answer:

- for at most ``ttl`` seconds after it was loaded: the bound on staleness when
  the event that should have dropped it never came;
- among at most ``max_entries`` answers, the least recently used going first;
- until an event says it is stale: the owner calls :meth:`ReadCache.invalidate`
  or :meth:`ReadCache.clear` from a broadcast handler (one auto-deleted queue
  per process, so that every process drops its own copy).

A miss calls the loader once: concurrent misses of the same key wait for that
load and share its answer (or its error). An error is never stored: the next
call loads again. Every invalidation bumps a generation, and a load that began
before one does not store what it read, for it may have read the old answer.

Keys are ``(kind, tag, params)`` (:func:`cache_key`): ``kind`` names the read
(``item``, ``stores``, ...), ``tag`` the one thing it is about (an item id, a
store id) so that an event can drop exactly that, and ``params`` every query
parameter. The cached object is handed to every caller as it is: callers must
not change it (copy it first when they might).
"""

import time
from collections import OrderedDict
from collections.abc import Callable

from eventlet.event import Event


def cache_key(kind: str, tag: str | None = None, **params) -> tuple:
    return (kind, tag, tuple(sorted(params.items())))


class ReadCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 10_000, clock=None):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock or time.monotonic
        self._entries: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._loading: dict[tuple, Event] = {}
        # Bumped by every invalidation: a load that started before one must not
        # store what it read, or the cache could hold the old answer for a TTL.
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        key: tuple,
        load: Callable[[], object],
        keep: Callable[[object], bool] | None = None,
    ):
        """The cached answer for ``key``, or ``load()``'s, stored for the TTL
        unless ``keep`` says it must not be (an answer no event would drop)."""
        entry = self._entries.get(key)
        if entry is not None:
            expires, value = entry
            if self.clock() < expires:
                self._entries.move_to_end(key)
                self.hits += 1
                return value
            del self._entries[key]
        pending = self._loading.get(key)
        if pending is not None:
            return pending.wait()
        self.misses += 1
        pending = self._loading[key] = Event()
        generation = self._generation
        try:
            value = load()
        except BaseException as exc:
            pending.send_exception(exc)
            raise
        finally:
            self._loading.pop(key, None)
        if generation == self._generation and (keep is None or keep(value)):
            self._store(key, value)
        pending.send(value)
        return value

    def _store(self, key: tuple, value) -> None:
        self._entries[key] = (self.clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, kind: str, tag: str | None = None) -> int:
        """Drop every answer of ``kind`` (only those about ``tag`` when given)."""
        self._generation += 1
        doomed = [key for key in self._entries if key[0] == kind and (tag is None or key[1] == tag)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


def payload_of(body) -> dict:
    """An event's payload, whether it came in an envelope or bare."""
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        return body["payload"]
    return body if isinstance(body, dict) else {}
