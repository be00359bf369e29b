"""The workflow service: applications (cases), joint review, licences, time limits.

One code base, two ways to run it, chosen by the config value ``DEPARTMENT_CODE``:

- empty: the shared provincial instance, named ``workflow``;
- a department code (lowercase letters, digits, hyphens): that department's own
  instance, named ``workflow-<code>``.

``WorkflowService.for_config(config)`` answers the class to run: the service
itself, or a subclass whose nameko name is the instance name (RPC queue
``rpc-workflow-<code>``, handler queues ``evt-courier-...--workflow-<code>.<method>``,
database ``workflow-<code>``'s). Every instance emits its events under the source
name ``workflow`` (``Database(..., source="workflow")``), so courier and ratings
need not know which instance handled a case.

The catalogue says which instance handles an item (``handled_by``); an instance
refuses (Conflict, ``fields.handled_by``) to open a case for an item another
instance handles. A department instance starts the application ids and licence
numbers it issues with ``<code>.`` (``services.common.instances``), so the
gateway routes every later command by the id alone.
"""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc as rpc_method
from nameko.timer import Timer

from services.common import errors, instances
from services.common.dependencies import Database
from services.common.messaging.consumer import event_handler
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.common.rpc import RpcClients
from services.workflow import schemas
from services.workflow.domain.model import china_today
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.gauges import gauges
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

DEFAULT_OVERDUE_CHECK_SECONDS = 3600


def instance_name(config: dict) -> str:
    """``workflow`` for the shared instance, ``workflow-<code>`` for a department's;
    ValueError for a department code that is not lowercase ``[a-z0-9-]``."""
    return instances.instance_for(str(config.get("DEPARTMENT_CODE") or ""))


class OverdueTimer(Timer):
    """A timer whose interval is the config value OVERDUE_CHECK_SECONDS."""

    def setup(self):
        self.interval = float(
            self.container.config.get("OVERDUE_CHECK_SECONDS") or DEFAULT_OVERDUE_CHECK_SECONDS
        )


overdue_timer = OverdueTimer.decorator


class InstanceCheck(DependencyProvider):
    """Refuses to start a container whose name is not the instance its config
    names (a class run without ``WorkflowService.for_config``, say by a bare
    ``nameko run`` with DEPARTMENT_CODE set), rather than serve as the wrong one."""

    def setup(self):
        expected = instance_name(self.container.config)
        if expected != self.container.service_name:
            raise RuntimeError(
                f"DEPARTMENT_CODE makes this instance {expected}, but the service runs as "
                f"{self.container.service_name}; start it with WorkflowService.for_config(config)"
                " (python -m services.common.runner does)"
            )


class WorkflowService(OpsEntrypoints):
    name = instances.SHARED_WORKFLOW

    config = Config()
    # Every instance emits under the source "workflow"; the database is the
    # instance's own (config.database_url of the instance name), and so are the
    # gauges read from it (labelled service="<instance name>").
    uow = Database(WorkflowUnitOfWork, source=instances.SHARED_WORKFLOW, gauges=gauges)
    instrumentation = Instrumentation()
    instance_check = InstanceCheck()
    # RPC to other services (catalog), with a deadline; the entrypoint decorator
    # is imported as ``rpc_method`` so this name does not shadow it.
    rpc = RpcClients()

    @classmethod
    def for_config(cls, config: dict) -> type:
        """The class to run for ``config``: this one for the shared instance, a
        subclass named ``workflow-<code>`` for DEPARTMENT_CODE=<code>."""
        name = instance_name(config)
        if name == cls.name:
            return cls
        return type(cls.__name__, (cls,), {"name": name, "__module__": cls.__module__})

    @property
    def instance(self) -> str:
        """This worker's instance name (the nameko name the class runs under)."""
        return self.name

    @rpc_method
    def submit_application(self, actor, item_id, form, materials, delivery, on_behalf_of=None):
        request = schemas.load(
            schemas.SubmitApplicationRequest,
            {
                "actor": actor,
                "item_id": item_id,
                "form": form,
                "materials": materials,
                "delivery": delivery,
                "on_behalf_of": on_behalf_of,
            },
        )
        item = self.rpc.call(
            "catalog",
            "get_item",
            correlation_id=self.uow.correlation_id,
            item_id=request.pop("item_id"),
        )
        application = use_cases.submit_application(
            self.uow, item, **request, instance=self.instance
        )
        return schemas.SubmittedSchema().dump(application)

    @rpc_method
    def get_application(self, actor, application_id):
        request = schemas.load(
            schemas.ApplicationRequest, {"actor": actor, "application_id": application_id}
        )
        application = use_cases.get_application(self.uow, **request)
        return schemas.ApplicationSchema().dump(application)

    @rpc_method
    def list_applications(self, actor, page=1, page_size=20):
        request = schemas.load(
            schemas.PageRequest, {"actor": actor, "page": page, "page_size": page_size}
        )
        applications, total = use_cases.list_applications(self.uow, **request)
        return schemas.dump_page(applications, total, request["page"], request["page_size"])

    @rpc_method
    def worklist(self, actor, state=None, page=1, page_size=20):
        request = schemas.load(
            schemas.WorklistRequest,
            {"actor": actor, "state": state, "page": page, "page_size": page_size},
        )
        applications, total = use_cases.worklist(self.uow, **request)
        return schemas.dump_page(applications, total, request["page"], request["page_size"])

    @rpc_method
    def withdraw(self, actor, application_id):
        request = schemas.load(
            schemas.ApplicationRequest, {"actor": actor, "application_id": application_id}
        )
        return schemas.ApplicationSchema().dump(use_cases.withdraw(self.uow, **request))

    @rpc_method
    def supplement(self, actor, application_id, materials):
        request = schemas.load(
            schemas.SupplementRequest,
            {"actor": actor, "application_id": application_id, "materials": materials},
        )
        return schemas.ApplicationSchema().dump(use_cases.supplement(self.uow, **request))

    @rpc_method
    def act(self, actor, application_id, action, comment=None):
        request = schemas.load(
            schemas.ActRequest,
            {
                "actor": actor,
                "application_id": application_id,
                "action": action,
                "comment": comment,
            },
        )
        return schemas.ApplicationSchema().dump(use_cases.act(self.uow, **request))

    @rpc_method
    def list_licences(self, actor):
        request = schemas.load(schemas.ActorRequest, {"actor": actor})
        licences = use_cases.list_licences(self.uow, **request)
        return schemas.LicenceSchema(many=True).dump(licences)

    @rpc_method
    def verify_licence(self, licence_no):
        request = schemas.load(schemas.VerifyLicenceRequest, {"licence_no": licence_no})
        return schemas.LicenceVerificationSchema().dump(
            use_cases.verify_licence(self.uow, **request)
        )

    @rpc_method
    def set_calendar_day(self, actor, day, kind):
        request = schemas.load(
            schemas.CalendarDayRequest, {"actor": actor, "day": day, "kind": kind}
        )
        return schemas.CalendarDaySchema().dump(use_cases.set_calendar_day(self.uow, **request))

    def _mine(self, envelope) -> bool:
        """Whether a courier notice is about a case of this instance: every
        instance's queue gets each notice, only the one that issued the id acts."""
        try:
            owner = instances.workflow_instance_of(envelope["payload"]["application_id"])
        except errors.NotFound:
            return False
        return owner == self.instance

    @event_handler("courier", "materials_received")
    def on_materials_received(self, envelope):
        schemas.load_payload(schemas.MaterialsReceivedPayload, envelope)
        if self._mine(envelope):
            use_cases.on_materials_received(self.uow, envelope)

    @event_handler("courier", "result_delivered")
    def on_result_delivered(self, envelope):
        schemas.load_payload(schemas.ResultDeliveredPayload, envelope)
        if self._mine(envelope):
            use_cases.on_result_delivered(self.uow, envelope)

    @overdue_timer(interval=DEFAULT_OVERDUE_CHECK_SECONDS)
    def mark_overdue_cases(self):
        use_cases.mark_overdue_cases(self.uow, china_today())
