"""The courier service: EMS shipments of express applications.

python -m services.common.runner services.courier.service:CourierService
"""

from nameko.rpc import rpc

from services.common.dependencies import Database
from services.common.messaging.consumer import event_handler
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.courier import schemas
from services.courier.adapters.ems_dependency import Ems
from services.courier.service_layer import use_cases
from services.courier.service_layer.gauges import gauges
from services.courier.service_layer.unit_of_work import CourierUnitOfWork


class CourierService(OpsEntrypoints):
    name = "courier"

    uow = Database(CourierUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()
    ems = Ems()

    @rpc
    def list_shipments(self, actor, application_id):
        query = schemas.load(
            schemas.ListShipmentsSchema(), {"actor": actor, "application_id": application_id}
        )
        found = use_cases.list_shipments(self.uow, query["actor"], query["application_id"])
        return schemas.ShipmentSchema(many=True, exclude=("tracking",)).dump(found)

    @rpc
    def get_shipment(self, actor, tracking_no):
        query = schemas.load(
            schemas.GetShipmentSchema(), {"actor": actor, "tracking_no": tracking_no}
        )
        found = use_cases.get_shipment(self.uow, query["actor"], query["tracking_no"])
        return schemas.ShipmentSchema().dump(found)

    @rpc
    def record_ems_event(self, tracking_no, status, occurred_at, location=None, description=None):
        scan = schemas.load(
            schemas.EmsScanSchema(),
            {
                "tracking_no": tracking_no,
                "status": status,
                "occurred_at": occurred_at,
                "location": location,
                "description": description,
            },
        )
        recorded = use_cases.record_ems_event(self.uow, **scan)
        return schemas.RecordedScanSchema().dump(recorded)

    @event_handler("workflow", "application_submitted")
    def on_application_submitted(self, envelope):
        submitted = schemas.load(schemas.ApplicationSubmittedSchema(), envelope["payload"])
        use_cases.ship_materials(self.uow, self.ems, envelope, submitted)

    @event_handler("workflow", "licence_issued")
    def on_licence_issued(self, envelope):
        issued = schemas.load(schemas.LicenceIssuedSchema(), envelope["payload"])
        use_cases.ship_result(self.uow, self.ems, envelope, issued)
