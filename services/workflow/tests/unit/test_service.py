"""Entrypoints with nameko's worker_factory: a SQLite unit of work, a fake catalog."""

from datetime import date
from unittest.mock import Mock

import pytest
from kombu import Queue
from nameko.testing.services import worker_factory

from services.common import errors
from services.common.config import service_for_config
from services.common.messaging import topology
from services.common.read_cache import ReadCache
from services.common.testing import envelope
from services.workflow.service import (
    DEFAULT_OVERDUE_CHECK_SECONDS,
    OverdueTimer,
    WorkflowService,
    instance_name,
)

from .conftest import (
    ADDRESS,
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    DEPT_ADMIN,
    EXPRESS,
    FORM,
    MATERIALS,
    ONLINE,
    OPERATOR,
    OTHER_CITIZEN,
    FakeCatalog,
    courier_event,
    item,
    shared_workflow,
)


@pytest.fixture
def catalog():
    return FakeCatalog(
        item(),
        item(item_id="item-elsewhere", handled_by="workflow-ks-xzsp"),
        item(item_id="item-at-the-window", modes=["window"]),
    )


@pytest.fixture
def service(uow, catalog):
    return shared_workflow(uow, catalog)


def submit(service, delivery=EXPRESS, item_id="item-food-licence"):
    return service.submit_application(
        actor=APPLICANT, item_id=item_id, form=FORM, materials=MATERIALS, delivery=delivery
    )


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
def department_service(uow, catalog):
    config = {"DEPARTMENT_CODE": "ks-xzsp"}
    return worker_factory(
        WorkflowService.for_config(config),
        uow=uow,
        clients=catalog,
        catalog_items=ReadCache(),
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
    department_service.act(actor=CLERK, application_id=application_id, action="accept")
    department_service.act(actor=APPROVER_A, application_id=application_id, action="approve")
    case = department_service.act(actor=APPROVER, application_id=application_id, action="approve")
    assert case["state"] == "completed"
    # The number names its issuer by USCC, not by the instance's prefix.
    assert case["licence_no"].startswith("1.2.156.3005.2.")
    licences = department_service.list_licences(actor=APPLICANT)["items"]
    assert [lic["licence_no"] for lic in licences] == [case["licence_no"]]
    checked = department_service.verify_licence(licence_no=case["licence_no"])
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

    class Plain:
        name = "plain"

    assert service_for_config(Plain, {"DEPARTMENT_CODE": "js-ga"}) is Plain


def test_courier_notices_of_another_instance_are_left_alone(service, department_service):
    own = submit(department_service, item_id="item-elsewhere")["application_id"]
    notice = courier_event("materials_received", own)
    assert service._mine(notice) is False
    assert department_service._mine(notice) is True
    # Every instance's queue gets the notice; only the case's own instance acts.
    service.on_materials_received(notice)
    shown = department_service.get_application(actor=APPLICANT, application_id=own)
    assert shown["state"] == "submitted"
    department_service.on_materials_received(notice)
    shown = department_service.get_application(actor=APPLICANT, application_id=own)
    assert shown["state"] == "accepted"


def test_application_with_timeline_and_reviews(service):
    application_id = submit(service)["application_id"]
    shown = service.get_application(actor=APPLICANT, application_id=application_id)
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
        service.get_application(actor=OTHER_CITIZEN, application_id=application_id)


def test_express_journey_through_the_entrypoints(service):
    application_id = submit(service)["application_id"]
    received = courier_event("materials_received", application_id)
    service.on_materials_received(received)
    service.on_materials_received(received)
    service.act(
        actor=APPROVER_A, application_id=application_id, action="approve", comment="消防合格"
    )
    approved = service.act(actor=APPROVER, application_id=application_id, action="approve")
    assert approved["state"] == "approved"
    licence_no = approved["licence_no"]
    service.on_result_delivered(courier_event("result_delivered", application_id))

    shown = service.get_application(actor=APPLICANT, application_id=application_id)
    assert shown["state"] == "completed"
    assert [entry["action"] for entry in shown["timeline"]].count("materials_received") == 1
    assert service.list_licences(actor=APPLICANT)["items"][0]["licence_no"] == licence_no
    verified = service.verify_licence(licence_no=licence_no)
    assert verified["valid"] is True and verified["failed"] == []
    assert verified["checks"] == {
        "signature": "valid",
        "register": "found",
        "period": "current",
        "revocation": "not_revoked",
    }


def test_lists_are_paged(service):
    for _ in range(3):
        submit(service, delivery=ONLINE)
    page = service.list_applications(actor=APPLICANT, page=2, page_size=2)
    assert (page["page"], page["page_size"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    # Query strings arrive as text.
    page = service.list_applications(actor=APPLICANT, page="2", page_size="2")
    assert (page["page"], page["page_size"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    work = service.worklist(actor=CLERK, state="submitted")
    assert work["total"] == 3
    assert service.worklist(actor=CLERK, state="accepted")["total"] == 0
    # Left out by the client: the defaults.
    everything = service.worklist(actor=CLERK)
    assert (everything["page"], everything["page_size"], everything["total"]) == (1, 20, 3)
    # Given empty or null: refused like any value that is not in the contract.
    with pytest.raises(errors.Invalid) as refused:
        service.worklist(actor=CLERK, state="", page="", page_size=None)
    assert set(refused.value.fields) == {"state", "page", "page_size"}


def submitting(**changes):
    """submit_application with ``changes`` to a good request."""
    arguments = {
        "actor": APPLICANT,
        "item_id": "item-food-licence",
        "form": FORM,
        "materials": MATERIALS,
        "delivery": EXPRESS,
        **changes,
    }
    return lambda s: s.submit_application(**arguments)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.list_applications(actor=APPLICANT, page=0), "page"),
        (lambda s: s.list_applications(actor=APPLICANT, page="first"), "page"),
        (lambda s: s.list_applications(actor=APPLICANT, page=10_001), "page"),
        (lambda s: s.list_applications(actor=APPLICANT, page_size=1000), "page_size"),
        (lambda s: s.list_applications(actor=APPLICANT, size=10), "size"),
        (lambda s: s.worklist(actor=CLERK, state="lost"), "state"),
        (
            lambda s: s.act(actor=CLERK, application_id="some-case", action="approve_all"),
            "action",
        ),
        (
            lambda s: s.act(
                actor=CLERK, application_id="some-case", action="reject", comment="x" * 1001
            ),
            "comment",
        ),
        (lambda s: s.verify_licence(licence_no="not-a-licence"), "licence_no"),
        (
            lambda s: s.put_calendar_year(
                actor=OPERATOR, year=2026, holidays=["2026-13-01"], workdays=[]
            ),
            "holidays.0",
        ),
        (
            lambda s: s.put_calendar_year(actor=OPERATOR, year=1999, holidays=[], workdays=[]),
            "year",
        ),
        (lambda s: s.put_calendar_year(actor=OPERATOR, year=2027, holidays=[]), "workdays"),
        (lambda s: s.get_calendar_year(year="next"), "year"),
        (
            lambda s: s.act(
                actor=CLERK, application_id="some-case", action="accept", step="Accept!"
            ),
            "step",
        ),
        (
            lambda s: s.request_extension(
                actor=APPROVER, application_id="some-case", working_days=0, reason="论证"
            ),
            "working_days",
        ),
        (
            lambda s: s.decide_extension(actor=DEPT_ADMIN, application_id="some-case"),
            "approve",
        ),
        (
            lambda s: s.suspend(
                actor=CLERK, application_id="some-case", kind="holiday", reason="x"
            ),
            "kind",
        ),
        (
            lambda s: s.end_suspension(
                actor=CLERK, application_id="some-case", suspension_id="s1", result=""
            ),
            "result",
        ),
        (
            lambda s: s.publish_process(
                actor=DEPT_ADMIN, item_id="item-food-licence", definition={"steps": []}
            ),
            "definition.steps",
        ),
        (
            lambda s: s.get_application(actor={"kind": "citizen"}, application_id="some-case"),
            "actor.user_id",
        ),
        (lambda s: s.get_application(actor=APPLICANT), "application_id"),
        (lambda s: s.withdraw(actor=APPLICANT, application_id=""), "application_id"),
        (submitting(form=[]), "form"),
        (submitting(delivery={"mode": "express"}), "delivery.address"),
        (submitting(delivery={"mode": "drone"}), "delivery.mode"),
        (
            submitting(delivery=dict(EXPRESS, address=dict(ADDRESS, phone="123"))),
            "delivery.address.phone",
        ),
        (
            submitting(delivery=dict(EXPRESS, address={**ADDRESS, "postcode": None})),
            "delivery.address.postcode",
        ),
        (submitting(materials=[{"file_id": "f"}]), "materials.0.name"),
        (submitting(materials=[{"name": "营业执照", "copies": 0}]), "materials.0.copies"),
        (submitting(materials=[{"name": "营业执照", "colour": "red"}]), "materials.0.colour"),
        (submitting(channel="app"), "channel"),
        # The gateway's old shape: a bare credit code.
        (submitting(on_behalf_of="91320102MA1XYR1234"), "on_behalf_of"),
        (submitting(on_behalf_of={"kind": "state"}), "on_behalf_of.kind"),
        (submitting(on_behalf_of={"kind": "enterprise"}), "on_behalf_of.uscc"),
        (
            submitting(on_behalf_of={"kind": "enterprise", "uscc": "91320102MA1XYZ123I"}),
            "on_behalf_of.uscc",
        ),
        (submitting(on_behalf_of={"kind": "person"}), "on_behalf_of.user_id"),
        # The old shape of a person (name and ID number) is no more.
        (
            submitting(on_behalf_of={"kind": "person", "id_number": "320102199001011234"}),
            "on_behalf_of.id_number",
        ),
        (
            submitting(
                on_behalf_of={
                    "kind": "person",
                    "user_id": "u-principal",
                    "uscc": "91320102MA1XYR1234",
                }
            ),
            "on_behalf_of.uscc",
        ),
        (
            lambda s: s.supplement(
                actor=APPLICANT, application_id="some-case", materials="营业执照"
            ),
            "materials",
        ),
        (
            lambda s: s.supplement(actor=APPLICANT, application_id="some-case", materials=[]),
            "materials",
        ),
    ],
)
def test_bad_input_is_invalid_naming_the_field(service, call, field):
    with pytest.raises(errors.Invalid) as raised:
        call(service)
    assert field in raised.value.fields


def test_arguments_are_named_never_positional(service):
    with pytest.raises(TypeError):
        service.list_applications(APPLICANT)
    with pytest.raises(errors.Invalid) as raised:
        service.list_licences(actor=APPLICANT, page=1)
    assert raised.value.fields == {"page": "Unknown field."}


def test_the_domain_still_names_what_the_contract_lets_through(service):
    with pytest.raises(errors.Invalid) as raised:
        submitting(materials=[{"name": "  "}])(service)
    assert raised.value.fields == {"materials.0.name": "is required"}
    with pytest.raises(errors.Invalid) as raised:
        submitting(item_id="item-at-the-window", delivery=ONLINE)(service)
    assert raised.value.fields == {"delivery.mode": "this item offers window"}


def test_domain_errors_leave_as_exactly_the_shared_types(service):
    application_id = submit(service, delivery=ONLINE)["application_id"]
    calls = [
        (lambda: service.act(actor=APPROVER, application_id=application_id, action="approve"),
         errors.Conflict),
        (lambda: service.act(actor=APPLICANT, application_id=application_id, action="accept"),
         errors.Forbidden),
        (lambda: service.act(actor=CLERK, application_id=application_id, action="reject"),
         errors.Invalid),
        (lambda: service.get_application(actor=OTHER_CITIZEN, application_id=application_id),
         errors.NotFound),
    ]  # fmt: skip
    for call, shared in calls:
        with pytest.raises(shared) as raised:
            call()
        assert type(raised.value) is shared
        assert raised.value.code == shared.code
    with pytest.raises(errors.Invalid) as raised:
        service.act(actor=CLERK, application_id=application_id, action="reject", comment=" ")
    assert raised.value.fields == {"comment": "a rejection must give the reason"}


def test_an_agent_applies_for_an_enterprise_or_a_person(service, identity):
    enterprise = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
    with pytest.raises(errors.Forbidden):  # no mandate yet
        submitting(on_behalf_of=enterprise)(service)
    identity.allow(APPLICANT["user_id"], enterprise, mandate_id="m-e")
    application_id = submitting(on_behalf_of=enterprise)(service)["application_id"]
    shown = service.get_application(actor=APPLICANT, application_id=application_id)
    assert shown["on_behalf_of"] == {**enterprise, "name": "南京某某科技有限公司"}
    assert (shown["applicant_id"], shown["mandate_id"]) == (APPLICANT["user_id"], "m-e")

    person = {"kind": "person", "user_id": "u-principal"}
    identity.allow(APPLICANT["user_id"], person, mandate_id="m-p")
    application_id = submitting(on_behalf_of=person)(service)["application_id"]
    shown = service.get_application(actor=APPLICANT, application_id=application_id)
    assert shown["on_behalf_of"] == {**person, "name": "王五"}

    own = submitting(on_behalf_of=None)(service)["application_id"]
    assert service.get_application(actor=APPLICANT, application_id=own)["on_behalf_of"] is None


def test_bad_courier_payload_is_invalid_so_it_is_dead_lettered(service):
    with pytest.raises(errors.Invalid) as raised:
        service.on_materials_received(envelope("courier", "materials_received", {}))
    assert {"payload.application_id", "payload.tracking_no", "payload.received_at"} <= set(
        raised.value.fields
    )


def test_a_courier_notice_may_carry_fields_workflow_does_not_know(service):
    application_id = submit(service)["application_id"]
    notice = courier_event("materials_received", application_id)
    notice["payload"]["weight_grams"] = 420
    service.on_materials_received(notice)
    shown = service.get_application(actor=APPLICANT, application_id=application_id)
    assert shown["state"] == "accepted"


def test_calendar_years(service):
    shipped = service.get_calendar_year(year=2026)
    assert (len(shipped["holidays"]), shipped["updated_by"]) == (33, None)
    loaded = service.put_calendar_year(
        actor=OPERATOR, year="2027", holidays=["2027-01-01"], workdays=[], source="通知"
    )
    assert loaded == {
        "year": 2027,
        "holidays": ["2027-01-01"],
        "workdays": [],
        "source": "通知",
        "updated_by": OPERATOR["user_id"],
        "updated_at": loaded["updated_at"],
    }
    assert loaded["updated_at"].endswith("Z")
    assert service.get_calendar_year(year=2027) == loaded
    with pytest.raises(errors.Forbidden):
        service.put_calendar_year(actor=DEPT_ADMIN, year=2027, holidays=[], workdays=[])
    with pytest.raises(errors.NotFound):
        service.get_calendar_year(year=2028)


def test_processes_are_published_and_read_by_version(service, catalog):
    assert service.get_process(item_id="item-food-licence") == {
        "item_id": "item-food-licence",
        "version": 0,
        "definition": {
            "steps": [
                {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                {
                    "id": "joint",
                    "kind": "parallel",
                    "join": "all",
                    "branches": [
                        {"department_code": "ks-xzsp", "role": "approver", "days": 4},
                        {"department_code": "320102-XF", "role": "approver", "days": 4},
                    ],
                },
            ],
            "supplement_days": 30,
        },
    }
    definition = {
        "steps": [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {"id": "decide", "kind": "approve", "role": "approver", "days": 4},
        ],
        "supplement_days": 15,
    }
    published = service.publish_process(
        actor=DEPT_ADMIN, item_id="item-food-licence", definition=definition
    )
    assert published == {"item_id": "item-food-licence", "version": 1, "definition": definition}
    assert ("catalog", "list_departments", {}) in catalog.calls
    assert service.get_process(item_id="item-food-licence") == published
    assert service.get_process(item_id="item-food-licence", version="1") == published
    assert service.get_process(item_id="item-food-licence", version=0)["version"] == 0
    with pytest.raises(errors.NotFound):
        service.get_process(item_id="item-food-licence", version=2)
    # A new case runs the published version.
    application_id = submit(service, delivery=ONLINE)["application_id"]
    shown = service.get_application(actor=CLERK, application_id=application_id)
    assert shown["process_version"] == 1
    assert [step["id"] for step in shown["steps"]] == ["accept", "decide"]
    # The catalogue names the departments a step may name.
    with pytest.raises(errors.Invalid) as refused:
        service.publish_process(
            actor=DEPT_ADMIN,
            item_id="item-food-licence",
            definition={
                "steps": [
                    {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                    {"id": "fire", "kind": "review", "role": "approver", "days": 1,
                     "department_code": "no-such-department"},
                ]
            },
        )  # fmt: skip
    assert refused.value.fields == {
        "definition.steps.1.department_code": "is not a department of the catalogue"
    }
    with pytest.raises(errors.Forbidden):
        service.publish_process(actor=APPROVER, item_id="item-food-licence", definition=definition)
    with pytest.raises(errors.Conflict):
        service.publish_process(actor=OPERATOR, item_id="item-elsewhere", definition=definition)


def test_extension_and_suspension_through_the_entrypoints(service):
    application_id = submit(service, delivery=ONLINE)["application_id"]
    service.act(actor=CLERK, application_id=application_id, action="accept")
    asked = service.request_extension(
        actor=APPROVER, application_id=application_id, working_days=3, reason="需组织专家论证"
    )
    assert [e["state"] for e in asked["extensions"]] == ["requested"]
    decided = service.decide_extension(
        actor=DEPT_ADMIN, application_id=application_id, approve=True, comment="同意"
    )
    assert [e["state"] for e in decided["extensions"]] == ["approved"]
    assert decided["due_date"] > asked["due_date"]
    started = service.suspend(
        actor=CLERK, application_id=application_id, kind="hearing", reason="申请人申请听证"
    )
    assert set(started) == {"suspension_id", "application"}
    clock = started["application"]["clock"]
    assert (clock["running"], clock["stopped_for"]) == (False, "suspension")
    date.fromisoformat(clock["stopped_on"])
    # While the procedure runs nobody decides; it can only end.
    assert started["application"]["available_actions"] == [
        {"action": "end_suspension", "step": None}
    ]
    with pytest.raises(errors.Conflict):
        service.act(actor=APPROVER, application_id=application_id, action="approve")
    ended = service.end_suspension(
        actor=CLERK,
        application_id=application_id,
        suspension_id=started["suspension_id"],
        result="听证已举行",
    )
    assert ended["clock"] == {"running": True, "stopped_on": None, "stopped_for": None}
    assert ended["suspensions"][0]["result"] == "听证已举行"


def test_timer_sweeps_overdue_and_unsupplemented_cases(service):
    # Nothing is due yet; the sweep runs and finds nothing.
    submit(service)
    service.sweep()


@pytest.mark.parametrize(
    ("config", "interval"), [({}, 3600), ({"OVERDUE_CHECK_SECONDS": "60"}, 60)]
)
def test_overdue_check_interval_comes_from_config(config, interval):
    timer = OverdueTimer(interval=DEFAULT_OVERDUE_CHECK_SECONDS)
    timer.container = Mock(config=config)
    timer.setup()
    assert timer.interval == interval
