"""The courier service: EMS shipments of express applications.

python -m operations.runner services.courier.service:CourierService

Shipments asked for by workflow's events are kept as pending orders in the
handler's transaction; a timer places them with EMS (retrying with backoff for
EMS_ORDER_RETRY_HOURS), so an EMS outage never fails an event.
"""

from nameko.dependency_providers import Config

from services.common import clock
from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.common.timers import Timer
from services.courier import contract
from services.courier.adapters.ems_dependency import Ems
from services.courier.service_layer import use_cases
from services.courier.service_layer.gauges import gauges
from services.courier.service_layer.orders import (
    DEFAULT_PLACE_SECONDS,
    PlacingSettings,
    place_pending_orders,
)
from services.courier.service_layer.unit_of_work import CourierUnitOfWork
from services.workflow import contract as workflow


class PlacingTimer(Timer):
    """A timer whose interval is the config value EMS_ORDER_PLACE_SECONDS; a bad
    EMS_ORDER_* setting stops the service at start, not at its first pass."""

    def setup(self):
        self.interval = PlacingSettings.from_config(self.container.config).interval_seconds


placing_timer = PlacingTimer.decorator


class CourierService(OpsEntrypoints):
    name = "courier"

    uow = Database(CourierUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()
    config = Config()
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
        use_cases.ship_materials(self.uow, event, retry_window=self._settings().retry_window)

    @handles("workflow", "licence_issued", payload=workflow.LicenceIssued)
    def on_licence_issued(self, event):
        use_cases.ship_result(self.uow, event, retry_window=self._settings().retry_window)

    @handles("workflow", "redelivery_requested", payload=workflow.RedeliveryRequested)
    def on_redelivery_requested(self, event):
        use_cases.ship_again(self.uow, event, retry_window=self._settings().retry_window)

    @placing_timer(interval=DEFAULT_PLACE_SECONDS)
    def place_orders(self):
        """Place the pending EMS orders that are due."""
        place_pending_orders(self.uow, self.ems, settings=self._settings(), clock=clock.now)

    def _settings(self) -> PlacingSettings:
        return PlacingSettings.from_config(self.config)
