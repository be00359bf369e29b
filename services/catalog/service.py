"""The catalog service: regions, departments, service items and flagship stores."""

from services.catalog import contract
from services.catalog.service_layer import basic_items, export, stats, stores, use_cases, zones
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.ratings import contract as ratings


class CatalogService(OpsEntrypoints):
    name = "catalog"

    uow = Database(CatalogUnitOfWork)
    instrumentation = Instrumentation()

    @rpc(response=contract.RegionList)
    def list_regions(self):
        return use_cases.list_regions(self.uow)

    @rpc(request=contract.DepartmentQuery, response=contract.DepartmentList)
    def list_departments(self, request):
        return use_cases.list_departments(self.uow, **request)

    @rpc(request=contract.ItemSearchQuery, response=contract.ItemSummaryPage)
    def search_items(self, request):
        return use_cases.search_items(self.uow, **request)

    @rpc(request=contract.ExportItems, response=contract.ItemExport)
    def export_items(self, request):
        return export.export_items(self.uow, **request)

    @rpc(request=contract.GetItem, response=contract.ItemGuide)
    def get_item(self, request):
        return use_cases.get_item(self.uow, **request)

    @rpc(request=contract.CreateItem, response=contract.ItemGuide)
    def create_item(self, request):
        return use_cases.create_item(self.uow, **request)

    @rpc(request=contract.UpdateItem, response=contract.ItemGuide)
    def update_item(self, request):
        return use_cases.update_item(self.uow, **request)

    @rpc(request=contract.PublishItem, response=contract.ItemGuide)
    def publish_item(self, request):
        return use_cases.publish_item(self.uow, **request)

    @rpc(request=contract.RetireItem, response=contract.ItemGuide)
    def retire_item(self, request):
        return use_cases.retire_item(self.uow, **request)

    @rpc(request=contract.StoreQuery, response=contract.StorePage)
    def list_stores(self, request):
        return stores.list_stores(self.uow, **request)

    @rpc(request=contract.StoreIdRequest, response=contract.Store)
    def get_store(self, request):
        return stores.get_store(self.uow, **request)

    @rpc(response=contract.CatalogStats)
    def catalog_stats(self):
        return stats.catalog_stats(self.uow)

    @rpc(request=contract.CreateBasicItem, response=contract.BasicItem)
    def create_basic_item(self, request):
        return basic_items.create_basic_item(self.uow, **request)

    @rpc(request=contract.UpdateBasicItem, response=contract.BasicItem)
    def update_basic_item(self, request):
        return basic_items.update_basic_item(self.uow, **request)

    @rpc(request=contract.BasicCodeRequest, response=contract.BasicItem)
    def get_basic_item(self, request):
        return basic_items.get_basic_item(self.uow, **request)

    @rpc(request=contract.BasicItemQuery, response=contract.BasicItemPage)
    def list_basic_items(self, request):
        return basic_items.list_basic_items(self.uow, **request)

    @rpc(request=contract.CreateZone, response=contract.Zone)
    def create_zone(self, request):
        return zones.create_zone(self.uow, **request)

    @rpc(request=contract.ListZones, response=contract.ZonePage)
    def list_zones(self, request):
        return zones.list_zones(self.uow, **request)

    @rpc(request=contract.RecordAssessment, response=contract.Assessment)
    def record_assessment(self, request):
        return zones.record_assessment(self.uow, **request)

    @rpc(request=contract.ListAssessments, response=contract.AssessmentPage)
    def list_assessments(self, request):
        return zones.list_assessments(self.uow, **request)

    @rpc(request=contract.FindAssessment, response=contract.FoundAssessment)
    def find_assessment(self, request):
        return zones.find_assessment(self.uow, **request)

    @handles("ratings", "store_rating_changed", payload=ratings.StoreRatingChanged)
    def on_store_rating_changed(self, event):
        """Show the store's rating as ratings announced it (once per event; the
        newest by ``occurred_at`` kept)."""
        use_cases.record_store_rating(self.uow, event)

    @handles("catalog", "item_published", payload=contract.ItemPublished)
    def count_item_published(self, event):
        """Keep the catalogue statistics (the highest revision of each item)."""
        stats.record_item_published(self.uow, event)

    @handles("catalog", "item_retired", payload=contract.ItemRetired)
    def count_item_retired(self, event):
        stats.record_item_retired(self.uow, event)

    @handles("catalog", "basic_item_published", payload=contract.BasicItemPublished)
    def count_basic_item_published(self, event):
        """Check the basic item's derived items against it again, for the statistics."""
        stats.record_basic_item_published(self.uow, event)

    @handles("catalog", "basic_item_published", payload=contract.BasicItemPublished)
    def follow_basic_item_published(self, event):
        """Bring the basic item's derived items to its new name, type and legal
        basis (once per event)."""
        basic_items.follow_basic_item(self.uow, event)
