"""The catalog service: regions, departments, service items and flagship stores."""

from services.catalog import contract
from services.catalog.service_layer import use_cases, zones
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

    @rpc(request=contract.ItemIdRequest, response=contract.ItemGuide)
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

    @rpc(response=contract.StoreList)
    def list_stores(self):
        return use_cases.list_stores(self.uow)

    @rpc(request=contract.StoreIdRequest, response=contract.Store)
    def get_store(self, request):
        return use_cases.get_store(self.uow, **request)

    @rpc(response=contract.CatalogStats)
    def catalog_stats(self):
        return use_cases.catalog_stats(self.uow)

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
