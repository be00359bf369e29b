"""catalog's items kept in the workflow process: what is kept, what drops it."""

from types import SimpleNamespace

import pytest
from nameko.events import BROADCAST, EventHandler

from services.common import errors
from services.common.read_cache import ReadCache
from services.common.testing import envelope
from services.workflow.adapters.catalog_items import (
    CatalogItems,
    catalog_item,
    forget_every_item,
    forget_item,
)
from services.workflow.service import WorkflowService

from .conftest import (
    APPLICANT,
    DEPT_ADMIN,
    EXPRESS,
    FORM,
    MATERIALS,
    FakeCatalog,
    item,
    shared_workflow,
)


class Loads:
    """A loader of catalog's answers that counts how often it was asked."""

    def __init__(self, answer):
        self.answer = answer
        self.count = 0

    def __call__(self):
        self.count += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def item_published(item_id: str) -> dict:
    return envelope("catalog", "item_published", {"item_id": item_id, "revision": 2})


def test_a_miss_loads_once_and_later_reads_are_kept():
    items, load = ReadCache(), Loads(item())
    assert catalog_item(items, "item-food-licence", load) == item()
    assert catalog_item(items, "item-food-licence", load) == item()
    assert load.count == 1


@pytest.mark.parametrize(
    "error", [errors.NotFound("no item x"), errors.Unavailable("catalog did not answer")]
)
def test_errors_are_not_kept(error):
    items, failing = ReadCache(), Loads(error)
    with pytest.raises(type(error)):
        catalog_item(items, "x", failing)
    answer = Loads(item(item_id="x"))
    assert catalog_item(items, "x", answer)["item_id"] == "x"
    assert (failing.count, answer.count) == (1, 1)


@pytest.mark.parametrize("status", ["draft", "retired"])
def test_an_item_not_published_is_asked_each_time(status):
    # It changes without an event: nothing would drop a kept copy.
    items, load = ReadCache(), Loads(item(status=status))
    catalog_item(items, "item-food-licence", load)
    catalog_item(items, "item-food-licence", load)
    assert load.count == 2


def test_every_reader_gets_its_own_copy():
    items = ReadCache()
    first = catalog_item(items, "item-food-licence", Loads(item()))
    first["window"]["name"] = "changed by a reader"
    first["modes"].append("post")
    assert catalog_item(items, "item-food-licence", Loads(None)) == item()


def test_item_published_or_retired_drops_only_that_item():
    items = ReadCache()
    for item_id in ("item-a", "item-b"):
        catalog_item(items, item_id, Loads(item(item_id=item_id)))
    forget_item(items, item_published("item-a"))
    again_a, again_b = Loads(item(item_id="item-a", name="新名称")), Loads(None)
    assert catalog_item(items, "item-a", again_a)["name"] == "新名称"
    assert catalog_item(items, "item-b", again_b)["item_id"] == "item-b"
    assert (again_a.count, again_b.count) == (1, 0)

    forget_item(items, envelope("catalog", "item_retired", {"item_id": "item-b", "revision": 3}))
    retired = Loads(item(item_id="item-b", status="retired"))
    assert catalog_item(items, "item-b", retired)["status"] == "retired"
    assert retired.count == 1


def test_an_event_naming_no_item_drops_every_item():
    items = ReadCache()
    catalog_item(items, "item-a", Loads(item(item_id="item-a")))
    forget_item(items, {"id": "e", "payload": {}})
    assert len(items) == 0


def test_a_basic_item_published_drops_every_item():
    items = ReadCache()
    for item_id in ("item-a", "item-b"):
        catalog_item(items, item_id, Loads(item(item_id=item_id)))
    forget_every_item(items)
    assert len(items) == 0


def test_an_event_arriving_during_a_load_keeps_the_load_from_being_kept():
    items = ReadCache()

    def load():
        forget_item(items, item_published("item-a"))
        return item(item_id="item-a")

    catalog_item(items, "item-a", load)
    assert len(items) == 0


def provider(config: dict) -> CatalogItems:
    catalog_items = CatalogItems()
    catalog_items.container = SimpleNamespace(config=config)
    catalog_items.setup()
    return catalog_items


def test_the_provider_reads_the_gateways_settings():
    assert (provider({}).cache.ttl, provider({}).cache.max_entries) == (30.0, 10_000)
    configured = provider({"CATALOG_CACHE_SECONDS": "2", "CATALOG_CACHE_MAX_ENTRIES": "5"})
    assert (configured.cache.ttl, configured.cache.max_entries) == (2.0, 5)
    assert configured.get_dependency(worker_ctx=None) is configured.cache


# ------------------------------------------------------------ through the service


@pytest.fixture
def catalog():
    return FakeCatalog(item(), item(item_id="item-draft", status="draft"))


@pytest.fixture
def service(uow, catalog):
    return shared_workflow(uow, catalog)


def submit(service, item_id="item-food-licence"):
    return service.submit_application(
        actor=APPLICANT, item_id=item_id, form=FORM, materials=MATERIALS, delivery=EXPRESS
    )


def item_reads(catalog) -> int:
    return sum(method == "get_item" for _, method, _ in catalog.calls)


def test_submits_ask_catalog_once_until_it_announces_a_change(service, catalog):
    submit(service)
    submit(service)
    assert item_reads(catalog) == 1

    catalog.items["item-food-licence"] = item(status="retired")
    service.on_item_published(item_published("item-food-licence"))
    with pytest.raises(errors.Conflict):
        submit(service)
    assert item_reads(catalog) == 2


def test_item_retired_and_basic_item_published_drop_the_kept_items(service, catalog):
    submit(service)
    service.on_item_retired(
        envelope("catalog", "item_retired", {"item_id": "item-food-licence", "revision": 3})
    )
    submit(service)
    payload = {"basic_code": "000117006000", "revision": 2}
    service.on_basic_item_published(envelope("catalog", "basic_item_published", payload))
    submit(service)
    assert item_reads(catalog) == 3


def test_an_unknown_item_is_asked_again(service, catalog):
    for _ in range(2):
        with pytest.raises(errors.NotFound):
            submit(service, item_id="no-such-item")
    assert item_reads(catalog) == 2


def test_publishing_a_process_reads_the_item_as_it_is_now(service, catalog):
    service.get_process(item_id="item-food-licence")
    definition = {
        "steps": [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {"id": "decide", "kind": "approve", "role": "approver", "days": 4},
        ],
        "supplement_days": 15,
    }
    service.publish_process(actor=DEPT_ADMIN, item_id="item-food-licence", definition=definition)
    service.publish_process(actor=DEPT_ADMIN, item_id="item-food-licence", definition=definition)
    assert item_reads(catalog) == 3


@pytest.mark.parametrize("config", [{"DEPARTMENT_CODE": ""}, {"DEPARTMENT_CODE": "js-ga"}])
def test_each_process_hears_catalogs_changes_on_a_broadcast_queue_of_its_own(config):
    service_class = WorkflowService.for_config(config)
    handlers = {
        name: entrypoint
        for name in ("on_item_published", "on_item_retired", "on_basic_item_published")
        for entrypoint in getattr(service_class, name).nameko_entrypoints
        if isinstance(entrypoint, EventHandler)
    }
    assert {name: (h.source_service, h.event_type) for name, h in handlers.items()} == {
        "on_item_published": ("catalog", "item_published"),
        "on_item_retired": ("catalog", "item_retired"),
        "on_basic_item_published": ("catalog", "basic_item_published"),
    }
    for handler in handlers.values():
        assert (handler.handler_type, handler.reliable_delivery) == (BROADCAST, False)
