"""Entrypoints with nameko's worker_factory: a SQLite unit of work, a fake catalog."""

from datetime import date
from unittest.mock import Mock

import pytest
from kombu import Queue
from nameko.testing.services import worker_factory

from services.common import errors, migrate
from services.common.config import service_for_config
from services.common.messaging import topology
from services.common.messaging.envelope import make_envelope
from services.workflow.service import (
    DEFAULT_OVERDUE_CHECK_SECONDS,
    OverdueTimer,
    WorkflowService,
    instance_name,
)
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

from .catalog_items import (
    APPLICANT,
    APPROVER,
    CLERK,
    DEPT_ADMIN,
    EXPRESS,
    FORM,
    JOINT_APPROVER,
    MATERIALS,
    ONLINE,
    OTHER_CITIZEN,
    item,
)


class FakeCatalog:
    """Stands in for RpcClients: answers catalog.get_item."""

    def __init__(self, *items):
        self.items = {entry["item_id"]: entry for entry in items}
        self.calls = []

    def call(self, service, method, correlation_id=None, **kwargs):
        self.calls.append((service, method, kwargs))
        assert (service, method) == ("catalog", "get_item")
        if kwargs["item_id"] not in self.items:
            raise errors.NotFound(f"item {kwargs['item_id']} not found")
        return self.items[kwargs["item_id"]]


@pytest.fixture
def catalog():
    return FakeCatalog(item(), item(item_id="item-elsewhere", handled_by="workflow-ks-xzsp"))


@pytest.fixture
def service(uow_factory, catalog):
    return worker_factory(
        WorkflowService,
        uow=uow_factory(WorkflowUnitOfWork, source="workflow"),
        rpc=catalog,
        config={"DEPARTMENT_CODE": ""},
    )


def submit(service, delivery=EXPRESS, item_id="item-food-licence"):
    return service.submit_application(APPLICANT, item_id, FORM, MATERIALS, delivery)


def test_submit_returns_the_case_and_its_due_date(service, catalog):
    result = submit(service)
    assert set(result) == {"application_id", "state", "due_date"}
    assert result["state"] == "submitted"
    date.fromisoformat(result["due_date"])
    assert catalog.calls == [("catalog", "get_item", {"item_id": "item-food-licence"})]


def test_unknown_item_stays_not_found(service):
    with pytest.raises(errors.NotFound):
        submit(service, item_id="no-such-item")


def test_item_of_another_instance_is_a_conflict_naming_it(service):
    with pytest.raises(errors.Conflict) as raised:
        submit(service, item_id="item-elsewhere")
    assert "workflow-ks-xzsp" in raised.value.message
    assert raised.value.fields == {"handled_by": "workflow-ks-xzsp"}


@pytest.fixture
def department_service(uow_factory, catalog):
    config = {"DEPARTMENT_CODE": "ks-xzsp"}
    return worker_factory(
        WorkflowService.for_config(config),
        uow=uow_factory(WorkflowUnitOfWork, source="workflow"),
        rpc=catalog,
        config=config,
    )


def test_department_instance_takes_its_own_items_and_prefixes_their_ids(department_service):
    result = submit(department_service, item_id="item-elsewhere")
    assert result["state"] == "submitted"
    assert result["application_id"].startswith("ks-xzsp.")
    assert len(result["application_id"]) == len("ks-xzsp.") + 32
    with pytest.raises(errors.Conflict) as raised:
        submit(department_service)
    assert raised.value.fields == {"handled_by": "workflow"}


def test_department_instance_issues_prefixed_licence_numbers(department_service):
    application_id = submit(department_service, delivery=ONLINE, item_id="item-elsewhere")[
        "application_id"
    ]
    department_service.act(CLERK, application_id, "accept")
    department_service.act(JOINT_APPROVER, application_id, "approve")
    case = department_service.act(APPROVER, application_id, "approve")
    assert case["state"] == "completed"
    assert case["licence_no"].startswith("ks-xzsp.JS")
    assert [lic["licence_no"] for lic in department_service.list_licences(APPLICANT)] == [
        case["licence_no"]
    ]
    checked = department_service.verify_licence(case["licence_no"])
    assert checked["valid"] is True and checked["licence_no"] == case["licence_no"]


def test_shared_instance_ids_have_no_prefix(service):
    application_id = submit(service)["application_id"]
    assert "." not in application_id and len(application_id) == 32


def test_instance_name():
    assert instance_name({}) == "workflow"
    assert instance_name({"DEPARTMENT_CODE": " "}) == "workflow"
    assert instance_name({"DEPARTMENT_CODE": "ks-xzsp"}) == "workflow-ks-xzsp"
    for bad in ("320102-SCJ", "js_ga", "-js", "js.ga", "a" * 25):
        with pytest.raises(ValueError):
            instance_name({"DEPARTMENT_CODE": bad})


def test_for_config_names_the_department_instance():
    assert WorkflowService.for_config({}) is WorkflowService
    assert WorkflowService.for_config({"DEPARTMENT_CODE": ""}) is WorkflowService
    instance = WorkflowService.for_config({"DEPARTMENT_CODE": "js-ga"})
    assert issubclass(instance, WorkflowService) and instance is not WorkflowService
    assert instance.name == "workflow-js-ga"
    assert WorkflowService.name == "workflow"
    # Events keep the one source name; the database is the instance's own.
    assert instance.uow.source == "workflow"
    assert topology.event_source(instance) == "workflow"
    queues = {
        entity.name
        for entity in topology.service_topology(instance, [1000])
        if isinstance(entity, Queue)
    }
    assert (
        topology.handler_queue_name(
            "courier", "materials_received", "workflow-js-ga", "on_materials_received"
        )
        in queues
    )
    assert not any(name.endswith("--workflow.on_materials_received") for name in queues)


def test_the_runner_and_the_deploy_step_use_the_hook(monkeypatch):
    assert service_for_config(WorkflowService, {"DEPARTMENT_CODE": "js-ga"}).name == (
        "workflow-js-ga"
    )
    assert migrate.service_class("workflow", {"DEPARTMENT_CODE": "js-ga"}).name == (
        "workflow-js-ga"
    )
    assert migrate.service_class("workflow").name == "workflow"

    class Plain:
        name = "plain"

    assert service_for_config(Plain, {"DEPARTMENT_CODE": "js-ga"}) is Plain


def test_courier_notices_of_another_instance_are_left_alone(service, department_service):
    own = submit(department_service, item_id="item-elsewhere")["application_id"]
    notice = make_envelope(
        "courier", "materials_received", {"application_id": own, "tracking_no": "t-1",
                                          "received_at": "2026-11-25T08:00:00Z"}
    )  # fmt: skip
    assert service._mine(notice) is False
    assert department_service._mine(notice) is True


def test_application_with_timeline_and_reviews(service):
    application_id = submit(service)["application_id"]
    shown = service.get_application(APPLICANT, application_id)
    assert shown["state"] == "submitted"
    assert shown["delivery_mode"] == "express"
    assert shown["reviews"] == [
        {"department_code": "ks-xzsp", "decision": "pending"},
        {"department_code": "320102-XF", "decision": "pending"},
    ]
    assert [entry["action"] for entry in shown["timeline"]] == ["submit"]
    assert shown["timeline"][0]["at"].endswith("Z")
    assert shown["window"]["name"] == "玄武区政务服务中心"
    with pytest.raises(errors.NotFound):
        service.get_application(OTHER_CITIZEN, application_id)


def test_express_journey_through_the_entrypoints(service):
    application_id = submit(service)["application_id"]
    received = make_envelope("courier", "materials_received", {"application_id": application_id})
    service.on_materials_received(received)
    service.on_materials_received(received)
    service.act(JOINT_APPROVER, application_id, "approve", "消防合格")
    approved = service.act(APPROVER, application_id, "approve")
    assert approved["state"] == "approved"
    licence_no = approved["licence_no"]
    service.on_result_delivered(
        make_envelope("courier", "result_delivered", {"application_id": application_id})
    )

    shown = service.get_application(APPLICANT, application_id)
    assert shown["state"] == "completed"
    assert [entry["action"] for entry in shown["timeline"]].count("materials_received") == 1
    assert service.list_licences(APPLICANT)[0]["licence_no"] == licence_no
    verified = service.verify_licence(licence_no)
    assert set(verified) == {"licence_no", "valid", "holder_masked", "item_name", "issued_at"}
    assert verified["valid"] is True


def test_lists_are_paged(service):
    for _ in range(3):
        submit(service, delivery=ONLINE)
    page = service.list_applications(APPLICANT, page=2, page_size=2)
    assert (page["page"], page["page_size"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    work = service.worklist(CLERK, state="submitted")
    assert work["total"] == 3
    assert service.worklist(CLERK, state="accepted")["total"] == 0
    # Left out by the client: the defaults.
    everything = service.worklist(CLERK, state=None, page=None, page_size=None)
    assert (everything["page"], everything["page_size"], everything["total"]) == (1, 20, 3)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.list_applications(APPLICANT, page=0), "page"),
        (lambda s: s.list_applications(APPLICANT, page="first"), "page"),
        (lambda s: s.list_applications(APPLICANT, page_size=1000), "page_size"),
        (lambda s: s.worklist(CLERK, state="lost"), "state"),
        (lambda s: s.act(CLERK, "some-case", "approve_all"), "action"),
        (lambda s: s.verify_licence("not-a-licence"), "licence_no"),
        (lambda s: s.set_calendar_day(DEPT_ADMIN, "2026-13-01", "holiday"), "day"),
        (lambda s: s.set_calendar_day(DEPT_ADMIN, "2026-12-31", "party"), "kind"),
        (lambda s: s.get_application({"kind": "citizen"}, "some-case"), "actor.user_id"),
        (lambda s: s.submit_application(APPLICANT, "item-food-licence", [], [], {}), "form"),
        (
            lambda s: s.submit_application(
                APPLICANT, "item-food-licence", FORM, MATERIALS, {"mode": "express"}
            ),
            "delivery.address",
        ),
        (
            lambda s: s.submit_application(
                APPLICANT, "item-food-licence", FORM, [{"file_id": "f"}], ONLINE
            ),
            "materials.0.name",
        ),
        (lambda s: s.supplement(APPLICANT, "some-case", "营业执照"), "materials"),
    ],
)
def test_bad_input_is_invalid_naming_the_field(service, call, field):
    with pytest.raises(errors.Invalid) as raised:
        call(service)
    assert field in raised.value.fields


def test_bad_courier_payload_is_invalid_so_it_is_dead_lettered(service):
    with pytest.raises(errors.Invalid) as raised:
        service.on_materials_received(make_envelope("courier", "materials_received", {}))
    assert "payload.application_id" in raised.value.fields


def test_calendar_day(service):
    assert service.set_calendar_day(DEPT_ADMIN, "2026-12-31", "holiday") == {
        "day": "2026-12-31",
        "kind": "holiday",
    }
    with pytest.raises(errors.Forbidden):
        service.set_calendar_day(APPLICANT, "2026-12-31", "holiday")


def test_timer_marks_overdue_cases(service):
    # Nothing is due yet; the sweep runs and finds nothing.
    submit(service)
    service.mark_overdue_cases()


@pytest.mark.parametrize(
    ("config", "interval"), [({}, 3600), ({"OVERDUE_CHECK_SECONDS": "60"}, 60)]
)
def test_overdue_check_interval_comes_from_config(config, interval):
    timer = OverdueTimer(interval=DEFAULT_OVERDUE_CHECK_SECONDS)
    timer.container = Mock(config=config)
    timer.setup()
    assert timer.interval == interval
