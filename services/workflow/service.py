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
instance handles. A department instance starts the application ids it issues
with ``<code>.`` (``services.common.instances``), so the gateway routes every
later command by the id alone; a licence number names its issuer's USCC, which
the catalogue's departments map to their instance.

An application needs its item's guide (catalog's ``get_item``): each process
keeps the published items it has read (``adapters.catalog_items``) and drops
one when catalog announces a change (``item_published``, ``item_retired``;
every item on ``basic_item_published``), on a broadcast queue of its own. So a
submit may see an item as it was until that event arrives (its travel time),
and at most ``CATALOG_CACHE_SECONDS`` (30) after it was read should the event
be missed. Publishing a process asks catalog each time.
"""

import functools

from nameko.dependency_providers import Config
from nameko.events import BROADCAST, event_handler
from nameko.extensions import DependencyProvider

from services.common import errors, instances
from services.common.entrypoints import handles, rpc
from services.common.environment import RequiredSecrets
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.common.pii import PII_SECRETS
from services.common.rpc import RpcClients
from services.common.timers import Timer
from services.courier import contract as courier
from services.identity import contract as identity
from services.workflow import contract
from services.workflow.adapters.catalog_items import (
    CatalogItems,
    catalog_item,
    forget_every_item,
    forget_item,
)
from services.workflow.adapters.data_exchange_dependency import DataExchange
from services.workflow.adapters.identity_dependency import WorkflowDatabase
from services.workflow.adapters.payment import PaymentPlatform
from services.workflow.domain.model import china_today
from services.workflow.domain.process import MAX_DAYS
from services.workflow.domain.progress import ESCALATE_TO_OPERATOR_DAYS
from services.workflow.service_layer import (
    evidence,
    licences,
    payments,
    pii_reads,
    principals,
    use_cases,
)
from services.workflow.service_layer.facts import CaseContext, FactGatherer
from services.workflow.service_layer.gauges import gauges
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

DEFAULT_OVERDUE_CHECK_SECONDS = 3600


def operator_days(config: dict) -> int:
    """ESCALATE_TO_OPERATOR_DAYS: working days a task stays red with its
    department's admin before it goes to the operator too (default 3);
    ValueError naming the setting for anything but a whole number 1..365."""
    value = config.get("ESCALATE_TO_OPERATOR_DAYS")
    if value is None or value == "":
        return ESCALATE_TO_OPERATOR_DAYS
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise ValueError(
            f"ESCALATE_TO_OPERATOR_DAYS must be a whole number of working days,"
            f" 1..{MAX_DAYS}; got {value!r}"
        )
    return int(text)


def instance_name(config: dict) -> str:
    """``workflow`` for the shared instance, ``workflow-<code>`` for a department's;
    ValueError for a department code that is not lowercase ``[a-z0-9-]``."""
    return instances.instance_for(str(config.get("DEPARTMENT_CODE") or ""))


class OverdueTimer(Timer):
    """A timer whose interval is the config value OVERDUE_CHECK_SECONDS. The
    sweep it runs also escalates: a bad ESCALATE_TO_OPERATOR_DAYS stops the
    service at start, not at its first sweep."""

    def setup(self):
        self.interval = float(
            self.container.config.get("OVERDUE_CHECK_SECONDS") or DEFAULT_OVERDUE_CHECK_SECONDS
        )
        operator_days(self.container.config)


overdue_timer = OverdueTimer.decorator
DEFAULT_PAYMENT_CHECK_SECONDS = 60


class PaymentTimer(Timer):
    """A timer whose interval is the config value PAYMENT_CHECK_SECONDS."""

    def setup(self):
        self.interval = float(
            self.container.config.get("PAYMENT_CHECK_SECONDS") or DEFAULT_PAYMENT_CHECK_SECONDS
        )


payment_timer = PaymentTimer.decorator


def _broadcast(source: str, event_type: str):
    # One auto-deleted queue per process (each department instance's too): every
    # process drops its own copy; one that was down starts with an empty cache.
    return event_handler(source, event_type, handler_type=BROADCAST, reliable_delivery=False)


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
                " (python -m operations.runner does)"
            )


class WorkflowService(OpsEntrypoints):
    name = instances.SHARED_WORKFLOW

    config = Config()
    # Every instance emits under the source "workflow"; the database is the
    # instance's own (config.database_url of the instance name), and so are the
    # gauges read from it (labelled service="<instance name>").
    # Its units of work also ask identity whether an agent may act for a
    # principal (``uow.authorise_principal``).
    uow = WorkflowDatabase(WorkflowUnitOfWork, source=instances.SHARED_WORKFLOW, gauges=gauges)
    instrumentation = Instrumentation()
    instance_check = InstanceCheck()
    # Outside development: no start with the public development PII key.
    secrets = RequiredSecrets(PII_SECRETS)
    # Calls to other services (catalog, identity), with a deadline.
    clients = RpcClients()
    # catalog's published items, kept in the process (see the module docstring).
    catalog_items = CatalogItems()
    # Other departments' records (civil affairs, housing) for instant decisions.
    data_exchange = DataExchange()
    # The payment platform: orders for fees, cancellations, refunds.
    payment_platform = PaymentPlatform()

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

    @rpc(request=contract.SubmitApplication, response=contract.Submitted)
    def submit_application(self, request):
        item = self._catalog_item(request.pop("item_id"))
        return use_cases.submit_application(
            self.uow,
            item,
            **request,
            instance=self.instance,
            licences_elsewhere=self._licences_elsewhere(),
        )

    @rpc(request=contract.GetApplication, response=contract.Application)
    def get_application(self, request):
        return use_cases.get_application(self.uow, **request)

    @rpc(request=contract.GetPrincipal, response=contract.PrincipalIdentity)
    def get_principal(self, request):
        """The person a case was applied for, ID number in full (recorded)."""
        return pii_reads.principal_identity(self.uow, **request, service=self.instance)

    @rpc(request=contract.ListApplications, response=contract.WorkItemPage)
    def list_applications(self, request):
        return use_cases.list_applications(self.uow, **request)

    @rpc(request=contract.Worklist, response=contract.WorkItemPage)
    def worklist(self, request):
        return use_cases.worklist(self.uow, **request)

    @rpc(request=contract.Withdraw, response=contract.Application)
    def withdraw(self, request):
        return use_cases.withdraw(self.uow, **request)

    @rpc(request=contract.Supplement, response=contract.Application)
    def supplement(self, request):
        return use_cases.supplement(self.uow, **request)

    @rpc(request=contract.Act, response=contract.Application)
    def act(self, request):
        return use_cases.act(self.uow, **request)

    @rpc(request=contract.Redelivery, response=contract.Application)
    def choose_redelivery(self, request):
        return use_cases.choose_redelivery(self.uow, **request)

    @rpc(request=contract.HandOver, response=contract.Application)
    def hand_over(self, request):
        return use_cases.hand_over(self.uow, **request)

    @rpc(request=contract.ListEscalations, response=contract.EscalationPage)
    def list_escalations(self, request):
        return use_cases.list_escalations(self.uow, **request)

    @rpc(request=contract.ListLicences, response=contract.LicenceList)
    def list_licences(self, request):
        return use_cases.list_licences(self.uow, **request)

    @rpc(request=contract.VerifyLicence, response=contract.LicenceCheck)
    def verify_licence(self, request):
        return use_cases.verify_licence(self.uow, **request)

    @rpc(request=contract.VerifyDocument, response=contract.LicenceCheck)
    def verify_licence_document(self, request):
        return licences.verify_document(self.uow, **request)

    @rpc(request=contract.GetLicence, response=contract.LicenceView)
    def get_licence(self, request):
        return licences.get_licence(self.uow, **request)

    @rpc(request=contract.RevokeLicence, response=contract.LicenceCheck)
    def revoke_licence(self, request):
        return licences.revoke_licence(self.uow, **request)

    @rpc(request=contract.CheckHeldLicence, response=contract.HeldLicenceAnswer)
    def check_held_licence(self, request):
        return licences.check_held_licence(self.uow, **request)

    @rpc(response=contract.LicenceJwks)
    def licence_jwks(self):
        return licences.licence_jwks(self.uow)

    @rpc(request=contract.RequestExtension, response=contract.Application)
    def request_extension(self, request):
        return use_cases.request_extension(self.uow, **request)

    @rpc(request=contract.DecideExtension, response=contract.Application)
    def decide_extension(self, request):
        return use_cases.decide_extension(self.uow, **request)

    @rpc(request=contract.Suspend, response=contract.SuspensionStarted)
    def suspend(self, request):
        return use_cases.suspend(self.uow, **request)

    @rpc(request=contract.EndSuspension, response=contract.Application)
    def end_suspension(self, request):
        return use_cases.end_suspension(self.uow, **request)

    @rpc(request=contract.PublishProcess, response=contract.ProcessVersion)
    def publish_process(self, request):
        # The definition is checked against the item as it is now (an admin may
        # just have changed it): asked of catalog, not the kept copy.
        item = self._catalog_item(request.pop("item_id"), fresh=True)
        departments = self._departments()
        return use_cases.publish_process(
            self.uow, item, **request, departments=departments, instance=self.instance
        )

    @rpc(request=contract.GetProcess, response=contract.ProcessVersion)
    def get_process(self, request):
        return use_cases.get_process(
            self.uow, self._catalog_item(request.pop("item_id")), **request
        )

    @rpc(request=contract.PutCalendarYear, response=contract.CalendarYear)
    def put_calendar_year(self, request):
        return use_cases.put_calendar_year(self.uow, **request)

    @rpc(request=contract.YearRequest, response=contract.CalendarYear)
    def get_calendar_year(self, request):
        return use_cases.get_calendar_year(self.uow, **request)

    @handles("workflow", "auto_step_started", payload=contract.AutoStepStarted)
    def on_auto_step_started(self, event):
        """Decide an instant (即办) step by its rules, as soon as it opens."""
        if self._mine(event):
            use_cases.decide_auto_step(self.uow, event, self._gather)

    @handles("workflow", "evidence_step_started", payload=contract.EvidenceStepStarted)
    def on_evidence_step_started(self, event):
        """Meet an assessment or licence step by the evidence found, else a person checks."""
        if self._mine(event):
            evidence.decide_evidence_step(self.uow, event, self._find_assessment)

    @handles("workflow", "payment_step_started", payload=contract.PaymentStepStarted)
    def on_payment_step_started(self, event):
        if self._mine(event):
            payments.on_payment_step_started(self.uow, event, self.payment_platform, self._gather)

    @handles("workflow", "payment_settlement_due", payload=contract.PaymentSettlementDue)
    def on_payment_settlement_due(self, event):
        if self._mine(event):
            payments.on_payment_settlement_due(self.uow, event, self.payment_platform)

    @rpc(request=contract.RecordPayment, response=contract.PaymentNoticeAnswer)
    def record_payment(self, request):
        return payments.record_payment(self.uow, **request)

    @handles("courier", "materials_received", payload=courier.MaterialsReceived)
    def on_materials_received(self, event):
        if self._mine(event):
            use_cases.on_materials_received(self.uow, event)

    @handles("courier", "result_delivered", payload=courier.ResultDelivered)
    def on_result_delivered(self, event):
        if self._mine(event):
            use_cases.on_result_delivered(self.uow, event)

    @handles("courier", "shipment_failed", payload=courier.ShipmentFailed)
    def on_shipment_failed(self, event):
        if self._mine(event):
            use_cases.on_shipment_failed(self.uow, event)

    # Who acts for which enterprise: every instance keeps its own copy, so its
    # members follow the enterprise's cases there.
    @handles("identity", "enterprise_registered", payload=identity.EnterpriseRegistered)
    def on_enterprise_registered(self, event):
        principals.on_enterprise_registered(self.uow, event)

    @handles("identity", "enterprise_member_added", payload=identity.EnterpriseMemberAdded)
    def on_enterprise_member_added(self, event):
        principals.on_member_added(self.uow, event)

    @handles("identity", "enterprise_member_removed", payload=identity.EnterpriseMemberRemoved)
    def on_enterprise_member_removed(self, event):
        principals.on_member_removed(self.uow, event)

    # Catalog's changes to items: drop the kept copies (adapters.catalog_items).
    @_broadcast("catalog", "item_published")
    def on_item_published(self, body):
        forget_item(self.catalog_items, body)

    @_broadcast("catalog", "item_retired")
    def on_item_retired(self, body):
        forget_item(self.catalog_items, body)

    @_broadcast("catalog", "basic_item_published")
    def on_basic_item_published(self, body):
        forget_every_item(self.catalog_items)

    def _catalog_item(self, item_id: str, fresh: bool = False) -> dict:
        """catalog's ``get_item`` answer, the caller's own copy (NotFound for an
        unknown item): a published item from the process's copy unless ``fresh``."""
        load = functools.partial(
            self.clients.call,
            "catalog",
            "get_item",
            correlation_id=self.uow.correlation_id,
            item_id=item_id,
        )
        if fresh:
            return load()
        return catalog_item(self.catalog_items, item_id, load)

    def _gather(self, facts, application, today):
        """The facts an auto step's rules name, about this case (FactsUnavailable
        when a source cannot answer)."""
        gatherer = FactGatherer(
            rpc=functools.partial(self.clients.call, correlation_id=self.uow.correlation_id),
            data_exchange=self.data_exchange,
            licences=functools.partial(use_cases.licences_held, self.uow),
            accessor_id=self.instance,
        )
        principal_id_number = functools.partial(
            pii_reads.principal_id_number_for_decision,
            self.uow,
            application.application_id,
            self.instance,
        )
        return gatherer.gather(facts, CaseContext.of(application, today, principal_id_number))

    def _find_assessment(self, **arguments):
        """catalog's ``find_assessment(zone_id, kind, on)``."""
        return self.clients.call(
            "catalog", "find_assessment", correlation_id=self.uow.correlation_id, **arguments
        )

    def _licences_elsewhere(self):
        """Asks the instance that issued a licence about it (material reuse)."""
        return licences.find_elsewhere(
            lambda instance, method, **arguments: self.clients.call(
                instance, method, correlation_id=self.uow.correlation_id, **arguments
            ),
            self.instance,
            instances.parse_departments(self.config.get("WORKFLOW_DEPARTMENTS")),
            lambda: self.clients.call(
                "catalog", "list_departments", correlation_id=self.uow.correlation_id
            )["items"],
        )

    def _departments(self) -> set[str]:
        """The catalogue's department codes."""
        answer = self.clients.call(
            "catalog", "list_departments", correlation_id=self.uow.correlation_id
        )
        return {department["code"] for department in answer["items"]}

    def warnings(self) -> dict[str, str]:
        """What /readyz reports beside its checks: calendars not loaded."""
        return use_cases.calendar_warnings(self.uow, china_today())

    def _mine(self, event) -> bool:
        """Whether a courier notice is about a case of this instance: every
        instance's queue gets each notice, only the one that issued the id acts."""
        try:
            owner = instances.workflow_instance_of(event["payload"]["application_id"])
        except errors.NotFound:
            return False
        return owner == self.instance

    @overdue_timer(interval=DEFAULT_OVERDUE_CHECK_SECONDS)
    def sweep(self):
        """Mark late cases, escalate late work (督办) and end the cases whose
        supplement never came."""
        today = china_today()
        use_cases.mark_overdue_cases(self.uow, today)
        use_cases.escalate_late_tasks(self.uow, today, operator_days=operator_days(self.config))
        use_cases.close_unsupplemented_cases(self.uow, today)

    @payment_timer(interval=DEFAULT_PAYMENT_CHECK_SECONDS)
    def payment_sweep(self):
        """Orders still to make, cancel or refund, and orders not paid in time."""
        payments.sweep_payments(self.uow, self.payment_platform, self._gather, china_today())
