from gateway.catalog_cache import apply_event
from gateway.errors import RateLimited
from gateway.ratelimit import TokenBuckets
from services.common.read_cache import ReadCache, cache_key


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_events_drop_only_what_they_touch():
    cache = ReadCache()
    cache.get(cache_key("item", "i-1"), lambda: "guide 1")
    cache.get(cache_key("item", "i-2"), lambda: "guide 2")
    cache.get(cache_key("items", q="x"), lambda: "search")
    cache.get(cache_key("stores"), lambda: "stores")
    apply_event(cache, "item_retired", {"id": "e", "payload": {"item_id": "i-1"}})
    assert cache.get(cache_key("item", "i-1"), lambda: "new") == "new"
    assert cache.get(cache_key("item", "i-2"), lambda: "new") == "guide 2"
    assert cache.get(cache_key("items", q="x"), lambda: "new search") == "new search"
    assert cache.get(cache_key("stores"), lambda: "new") == "stores"


def test_a_changed_basic_item_drops_the_basic_item_reads():
    cache = ReadCache()
    cache.get(cache_key("basic", "000117006000"), lambda: "basic item")
    cache.get(cache_key("basic", q="食品"), lambda: "basic page")
    cache.get(cache_key("item", "i-1"), lambda: "guide 1")
    payload = {"basic_code": "000117006000", "revision": 2}
    apply_event(cache, "basic_item_published", {"id": "e", "payload": payload})
    assert cache.get(cache_key("basic", "000117006000"), lambda: "new") == "new"
    assert cache.get(cache_key("basic", q="食品"), lambda: "new page") == "new page"
    # derived items are dropped by their own item_published
    assert cache.get(cache_key("item", "i-1"), lambda: "new") == "guide 1"


def test_token_bucket_allows_a_burst_then_asks_to_wait():
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0
    clock.now += 1
    assert buckets.take("a") == 0


def test_rate_limited_carries_retry_after():
    assert RateLimited("x", retry_after=2).retry_after == 2
