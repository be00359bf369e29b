"""The catalog service: regions, departments, service items and flagship stores.

Entrypoints only: load with a schema, run a use case, dump with a schema.
"""

from nameko.rpc import rpc

from services.catalog import schemas
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.dependencies import Database
from services.common.messaging.consumer import event_handler
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints


def _actor(actor) -> dict:
    return schemas.load(schemas.ActorSchema(), actor, name="actor")


class CatalogService(OpsEntrypoints):
    name = "catalog"

    uow = Database(CatalogUnitOfWork)
    instrumentation = Instrumentation()

    @rpc
    def list_regions(self):
        return schemas.RegionSchema(many=True).dump(use_cases.list_regions(self.uow))

    @rpc
    def list_departments(self, region=None):
        query = schemas.load(schemas.DepartmentFilterSchema(), {"region": region})
        departments = use_cases.list_departments(self.uow, **query)
        return schemas.DepartmentSchema(many=True).dump(departments)

    @rpc
    def search_items(
        self, q=None, region=None, department=None, level=None, mode=None, page=1, page_size=20
    ):
        query = schemas.load(
            schemas.ItemSearchSchema(),
            {
                "q": q,
                "region": region,
                "department": department,
                "level": level,
                "mode": mode,
                "page": page,
                "page_size": page_size,
            },
        )
        return schemas.SearchResultSchema().dump(use_cases.search_items(self.uow, **query))

    @rpc
    def get_item(self, item_id):
        query = schemas.load(schemas.ItemIdSchema(), {"item_id": item_id})
        return schemas.ItemGuideSchema().dump(use_cases.get_item(self.uow, **query))

    @rpc
    def create_item(self, actor, data):
        actor = _actor(actor)
        data = schemas.load(schemas.NewItemSchema(), data)
        return schemas.ItemGuideSchema().dump(use_cases.create_item(self.uow, actor, data))

    @rpc
    def update_item(self, actor, item_id, data):
        actor = _actor(actor)
        query = schemas.load(schemas.ItemIdSchema(), {"item_id": item_id})
        data = schemas.load(schemas.ItemChangesSchema(), data)
        item = use_cases.update_item(self.uow, actor, query["item_id"], data)
        return schemas.ItemGuideSchema().dump(item)

    @rpc
    def publish_item(self, actor, item_id):
        actor = _actor(actor)
        query = schemas.load(schemas.ItemIdSchema(), {"item_id": item_id})
        item = use_cases.publish_item(self.uow, actor, query["item_id"])
        return schemas.ItemGuideSchema().dump(item)

    @rpc
    def retire_item(self, actor, item_id):
        actor = _actor(actor)
        query = schemas.load(schemas.ItemIdSchema(), {"item_id": item_id})
        item = use_cases.retire_item(self.uow, actor, query["item_id"])
        return schemas.ItemGuideSchema().dump(item)

    @rpc
    def list_stores(self):
        return schemas.StoreSchema(many=True).dump(use_cases.list_stores(self.uow))

    @rpc
    def get_store(self, store_id):
        query = schemas.load(schemas.StoreIdSchema(), {"store_id": store_id})
        return schemas.StoreSchema().dump(use_cases.get_store(self.uow, **query))

    @rpc
    def catalog_stats(self):
        return schemas.CatalogStatsSchema().dump(use_cases.catalog_stats(self.uow))

    @event_handler("ratings", "review_submitted")
    def on_review_submitted(self, envelope):
        """Fold a review's grade into its store's rating (once per event)."""
        envelope = {
            **envelope,
            "payload": schemas.load_payload(schemas.ReviewSubmittedSchema, envelope),
        }
        use_cases.record_review(self.uow, envelope)
