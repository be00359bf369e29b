"""The courier service: EMS shipments of express applications.

python -m operations.runner services.courier.service:CourierService
"""

from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.courier import contract
from services.courier.adapters.ems_dependency import Ems
from services.courier.service_layer import use_cases
from services.courier.service_layer.gauges import gauges
from services.courier.service_layer.unit_of_work import CourierUnitOfWork
from services.workflow import contract as workflow


class CourierService(OpsEntrypoints):
    name = "courier"

    uow = Database(CourierUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()
    ems = Ems()

    @rpc(request=contract.ListShipments, response=contract.ShipmentList)
    def list_shipments(self, request):
        return use_cases.list_shipments(self.uow, **request)

    @rpc(request=contract.GetShipment, response=contract.Shipment)
    def get_shipment(self, request):
        return use_cases.get_shipment(self.uow, **request)

    @rpc(request=contract.EmsScan, response=contract.RecordedScan)
    def record_ems_event(self, request):
        return use_cases.record_ems_event(self.uow, **request)

    @handles("workflow", "application_submitted", payload=workflow.ApplicationSubmitted)
    def on_application_submitted(self, event):
        use_cases.ship_materials(self.uow, self.ems, event)

    @handles("workflow", "licence_issued", payload=workflow.LicenceIssued)
    def on_licence_issued(self, event):
        use_cases.ship_result(self.uow, self.ems, event)
