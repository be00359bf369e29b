"""The process-local read cache: TTL, bound, invalidation, shared loads."""

import eventlet
import pytest
from eventlet.event import Event

from services.common.read_cache import ReadCache, cache_key, payload_of


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_cache_hit_does_not_load_again():
    cache, loads = ReadCache(), []
    key = cache_key("items", q="护照", page=1)
    assert cache.get(key, lambda: loads.append(1) or "first") == "first"
    assert cache.get(key, lambda: loads.append(1) or "second") == "first"
    assert loads == [1]
    assert (cache.hits, cache.misses) == (1, 1)


def test_keys_include_every_parameter():
    assert cache_key("items", q="a", page=1) != cache_key("items", q="a", page=2)
    assert cache_key("items", page=1, q="a") == cache_key("items", q="a", page=1)


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache = ReadCache(ttl=30, clock=clock)
    cache.get(("k",), lambda: 1)
    clock.now += 29
    assert cache.get(("k",), lambda: 2) == 1
    clock.now += 2
    assert cache.get(("k",), lambda: 2) == 2


def test_size_is_bounded_least_recent_first():
    cache = ReadCache(max_entries=2)
    for name in "abc":
        cache.get((name,), lambda name=name: name)
    assert len(cache) == 2
    assert cache.get(("a",), lambda: "reloaded") == "reloaded"


def test_failures_are_not_cached():
    cache = ReadCache()

    def fail():
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        cache.get(("k",), fail)
    assert len(cache) == 0
    assert cache.get(("k",), lambda: "ok") == "ok"


def test_an_answer_keep_refuses_is_answered_but_not_stored():
    cache = ReadCache()
    assert cache.get(("k",), lambda: "draft", keep=lambda value: value != "draft") == "draft"
    assert len(cache) == 0
    assert cache.get(("k",), lambda: "published", keep=lambda value: value != "draft") == (
        "published"
    )
    assert cache.get(("k",), lambda: "again") == "published"


def test_invalidate_drops_one_tag_or_a_whole_kind():
    cache = ReadCache()
    for tag in ("i-1", "i-2"):
        cache.get(cache_key("item", tag), lambda tag=tag: tag)
    cache.get(cache_key("stores"), lambda: "stores")
    assert cache.invalidate("item", "i-1") == 1
    assert cache.get(cache_key("item", "i-1"), lambda: "new") == "new"
    assert cache.get(cache_key("item", "i-2"), lambda: "new") == "i-2"
    assert cache.invalidate("item") == 2
    assert cache.get(cache_key("stores"), lambda: "new") == "stores"
    cache.clear()
    assert len(cache) == 0


def test_a_load_racing_an_invalidation_is_not_stored():
    cache = ReadCache()

    def load():
        cache.invalidate("item", "i-1")
        return "old"

    assert cache.get(cache_key("item", "i-1"), load) == "old"
    assert cache.get(cache_key("item", "i-1"), lambda: "new") == "new"


def test_concurrent_misses_share_one_load():
    cache, release, loads = ReadCache(), Event(), []

    def load():
        loads.append(1)
        return release.wait()

    readers = [eventlet.spawn(cache.get, ("k",), load) for _ in range(3)]
    eventlet.sleep(0)
    release.send("answer")
    assert [reader.wait() for reader in readers] == ["answer"] * 3
    assert loads == [1]


def test_concurrent_misses_share_the_error_and_nothing_is_stored():
    cache, release = ReadCache(), Event()

    def load():
        release.wait()
        raise LookupError("no item")

    readers = [eventlet.spawn(cache.get, ("k",), load) for _ in range(2)]
    eventlet.sleep(0)
    release.send(None)
    for reader in readers:
        with pytest.raises(LookupError):
            reader.wait()
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("body", "payload"),
    [
        ({"id": "e", "payload": {"item_id": "i-1"}}, {"item_id": "i-1"}),
        ({"item_id": "i-1"}, {"item_id": "i-1"}),
        (None, {}),
        ("not an event", {}),
    ],
)
def test_payload_of_reads_an_envelope_or_a_bare_body(body, payload):
    assert payload_of(body) == payload
