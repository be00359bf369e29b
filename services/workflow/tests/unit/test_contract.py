"""The workflow contract holds on both sides: every RPC method, driven with the
arguments the gateway sends and the real use cases on SQLite, answers exactly
what its response schema documents; every event the domain records is exactly
its documented payload; the events it consumes (courier's, and its own
auto_step_started) load as their producers emit them."""

from datetime import date, timedelta

import jsonschema_rs
import pytest
from marshmallow import Schema, fields

from services.common.entrypoints import ContractEventHandler, ContractRpc, contract_entrypoints
from services.common.errors import Invalid
from services.common.schemas import load
from services.common.testing import assert_documented, envelope, json_schema_of, outbox
from services.courier import contract as courier
from services.identity import contract as identity_contract
from services.workflow import contract
from services.workflow.adapters import orm
from services.workflow.service import WorkflowService
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.facts import FactsUnavailable

from .conftest import (
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
    FakeCatalog,
    FakeIdentity,
    courier_event,
    item,
    shared_workflow,
)
from .test_evidence_and_payment import FEE, ZONE, Platform, report

ENTERPRISE = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
PERSON = {"kind": "person", "user_id": "u-principal"}
BY_NUMBER = "320102199001011234"
MEMBER = "u-member"
# An instant item (即办件): an auto step decides, a person when facts are missing.
INSTANT = {
    "steps": [
        {
            "id": "eligibility",
            "kind": "auto",
            "days": 0,
            "rules": {
                "all": [
                    {"fact": "applicant.level", "op": "ge", "value": 2},
                    {"fact": "applicant.age", "op": "ge", "value": 60},
                ]
            },
            "fallback": {"role": "approver", "days": 1},
        }
    ]
}


@pytest.fixture
def service(uow, identity):
    # The applicant is the agent of an enterprise and of a person.
    identity.allow(APPLICANT["user_id"], ENTERPRISE)
    identity.allow(APPLICANT["user_id"], PERSON)
    catalog = FakeCatalog(
        item(),
        item(item_id="item-no-window", window=None, joint_departments=[]),
        item(item_id="item-instant", joint_departments=[]),
        item(item_id="item-fee", joint_departments=[], fees=[FEE]),
        item(item_id="item-zone", joint_departments=[]),
    )
    return shared_workflow(uow, catalog)


# A process paying the fees before the decision, and one with an assessment step.
FEE_FIRST = {
    "steps": [
        {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
        {"id": "fee", "kind": "payment", "days": 10},
        {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
    ]
}
ZONED = {
    "steps": [
        {"id": "eia", "kind": "assessment", "assessment_kind": "environmental_impact", "days": 2},
        {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
    ]
}


def rpc_methods() -> dict:
    return {
        name: entrypoint
        for name, entrypoint in contract_entrypoints(WorkflowService)
        if isinstance(entrypoint, ContractRpc)
    }


def event_handlers() -> dict:
    return {
        name: entrypoint
        for name, entrypoint in contract_entrypoints(WorkflowService)
        if isinstance(entrypoint, ContractEventHandler)
    }


def auto_step_started(service, application_id) -> dict:
    """The ``auto_step_started`` the case recorded, as the instance receives it."""
    (started,) = [
        sent
        for sent in outbox(service.uow)
        if sent["type"] == "auto_step_started"
        and sent["payload"]["application_id"] == application_id
    ]
    return started


def drive(service) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """Every RPC method with arguments as the gateway sends them, in an order in
    which each succeeds, and every courier notice as courier emits it; answers
    ``(method, answer)`` of each call and ``(handler, envelope)`` of each notice.

    Left open at the end: one express case (late, later; escalated two months
    on, then accepted) and one waiting for the applicant's materials (never
    supplied)."""
    answers, notices = [], []

    def call(method, **arguments):
        answer = getattr(service, method)(**arguments)
        answers.append((method, answer))
        return answer

    def notify(handler, event_type, application_id):
        notice = courier_event(event_type, application_id)
        getattr(service, handler)(notice)
        notices.append((handler, notice))

    def shipment_failed(application_id, direction, reason, attempt=1):
        notice = envelope(
            "courier",
            "shipment_failed",
            {
                "application_id": application_id,
                "tracking_no": None if reason == "ems_unavailable" else "EA123456785CN",
                "direction": direction,
                "reason": reason,
                "description": "" if reason == "ems_unavailable" else "收件人拒收",
                "failed_at": "2026-10-09T02:00:00Z",
                "attempt": attempt,
            },
        )
        service.on_shipment_failed(notice)
        notices.append(("on_shipment_failed", notice))

    def identity_notice(handler, event_type, payload):
        notice = envelope("identity", event_type, payload)
        getattr(service, handler)(notice)
        notices.append((handler, notice))

    # Who acts for the enterprise: its owner, and a member added and removed.
    uscc = ENTERPRISE["uscc"]
    identity_notice(
        "on_enterprise_registered",
        "enterprise_registered",
        {"enterprise_id": "e-1", "uscc": uscc, "owner_user_id": "u-owner"},
    )
    member = {"uscc": uscc, "user_id": MEMBER}
    identity_notice("on_enterprise_member_added", "enterprise_member_added", member)
    identity_notice("on_enterprise_member_removed", "enterprise_member_removed", member)

    def decide_auto_step(application_id, gather):
        # The facts as the gatherer would answer them (the sources are stood in).
        service._gather = gather
        notice = auto_step_started(service, application_id)
        service.on_auto_step_started(notice)
        notices.append(("on_auto_step_started", notice))

    def submit(delivery=ONLINE, item_id="item-food-licence", **more):
        return call(
            "submit_application",
            actor=APPLICANT,
            item_id=item_id,
            form=FORM,
            materials=MATERIALS,
            delivery=delivery,
            **more,
        )["application_id"]

    # The working calendar.
    call("get_calendar_year", year=2026)
    call(
        "put_calendar_year",
        actor=OPERATOR,
        year=2027,
        holidays=["2027-01-01"],
        workdays=[],
        source="国务院办公厅关于2027年部分节假日安排的通知",
    )

    # An express case through EMS: the address and the window in every answer.
    express = submit(EXPRESS)
    call("get_application", actor=APPLICANT, application_id=express)
    notify("on_materials_received", "materials_received", express)
    call("act", actor=APPROVER_A, application_id=express, action="approve", comment="消防合格")
    call("act", actor=APPROVER, application_id=express, action="approve", step="joint")
    notify("on_result_delivered", "result_delivered", express)
    call("get_application", actor=OPERATOR, application_id=express)

    # EMS failed it twice: the applicant brings the materials to the window;
    # the result, shipped again to a new address, fails again and is handed
    # over at the window.
    failing = submit(EXPRESS)
    shipment_failed(failing, "materials", "refused")
    call("get_application", actor=APPLICANT, application_id=failing)
    call("choose_redelivery", actor=APPLICANT, application_id=failing, choice="bring_to_window")
    call("act", actor=CLERK, application_id=failing, action="accept")
    call("act", actor=APPROVER_A, application_id=failing, action="approve")
    call("act", actor=APPROVER, application_id=failing, action="approve", step="joint")
    shipment_failed(failing, "result", "undeliverable")
    call(
        "choose_redelivery",
        actor=APPLICANT,
        application_id=failing,
        choice="redeliver_result",
        address={**EXPRESS["address"], "city": "无锡市", "postcode": "214000"},
    )
    shipment_failed(failing, "result", "ems_unavailable", attempt=2)
    call("hand_over", actor=CLERK, application_id=failing, comment="申请人本人领取")

    # An agent's case for an enterprise, with a supplement, approved online.
    for_enterprise = submit(on_behalf_of=ENTERPRISE)
    call(
        "act",
        actor=CLERK,
        application_id=for_enterprise,
        action="request_supplement",
        comment="请补交卫生许可证",
        missing_materials=["卫生许可证"],
    )
    call("get_application", actor=APPLICANT, application_id=for_enterprise)
    call(
        "supplement",
        actor=APPLICANT,
        application_id=for_enterprise,
        materials=[{"name": "卫生许可证", "copies": 1, "original": True, "note": "复印件"}],
    )
    call("act", actor=CLERK, application_id=for_enterprise, action="accept", step="accept")
    call("act", actor=APPROVER_A, application_id=for_enterprise, action="approve")
    approved = call("act", actor=APPROVER, application_id=for_enterprise, action="approve")

    # An agent's case for a person (the ID number masked), rejected.
    for_person = submit(on_behalf_of=PERSON)
    call("get_application", actor=APPLICANT, application_id=for_person)
    call("get_principal", actor=CLERK, application_id=for_person)
    # A case from before persons had accounts names its person by ID number,
    # kept encrypted: a reviewer reading it in full is recorded (pii_accessed).
    by_number = submit()
    with service.uow as uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == by_number)
            .values(on_behalf_of={"kind": "person", "name": "赵六", "id_number": BY_NUMBER})
        )
        uow.commit()
    service.withdraw(actor=APPLICANT, application_id=by_number)  # its save encrypts the number
    call("get_principal", actor=CLERK, application_id=by_number)
    call("act", actor=CLERK, application_id=for_person, action="reject", comment="不属于本部门")

    # An item without a window, at the window: extended, suspended, then denied.
    no_window = submit({"mode": "window"}, item_id="item-no-window")
    call("act", actor=CLERK, application_id=no_window, action="accept")
    call(
        "request_extension",
        actor=APPROVER,
        application_id=no_window,
        working_days=2,
        reason="需组织专家论证",
    )
    call("decide_extension", actor=DEPT_ADMIN, application_id=no_window, approve=True)
    call(
        "request_extension", actor=APPROVER, application_id=no_window, working_days=1, reason="再议"
    )
    call(
        "decide_extension",
        actor=DEPT_ADMIN,
        application_id=no_window,
        approve=False,
        comment="时限已足",
    )
    started = call(
        "suspend", actor=CLERK, application_id=no_window, kind="hearing", reason="申请人申请听证"
    )
    call("get_application", actor=DEPT_ADMIN, application_id=no_window)
    call(
        "end_suspension",
        actor=CLERK,
        application_id=no_window,
        suspension_id=started["suspension_id"],
        result="听证已举行",
    )
    call("act", actor=APPROVER, application_id=no_window, action="deny", comment="不符合条件")
    call("get_application", actor=APPLICANT, application_id=no_window)

    # An instant item: its process published; one case decided by its rules,
    # one by a person because a source of facts was down.
    call("get_process", item_id="item-instant")
    call("publish_process", actor=DEPT_ADMIN, item_id="item-instant", definition=INSTANT)
    call("get_process", item_id="item-instant", version=1)
    refused = submit(item_id="item-instant")
    decide_auto_step(refused, lambda facts, case, today: {
        "applicant.level": 2, "applicant.age": 35,
    })  # fmt: skip
    call("get_application", actor=APPLICANT, application_id=refused)
    by_hand = submit(item_id="item-instant")

    def unavailable(facts, case, today):
        raise FactsUnavailable("public_security", "the population register did not answer")

    decide_auto_step(by_hand, unavailable)
    call("get_application", actor=APPROVER, application_id=by_hand)
    call("act", actor=APPROVER, application_id=by_hand, action="approve", comment="核验无误")

    # Withdrawn, one waiting for materials never supplied, and one left open
    # (late, later).
    call("withdraw", actor=APPLICANT, application_id=submit())
    never = submit()
    call(
        "act",
        actor=CLERK,
        application_id=never,
        action="request_supplement",
        comment="请补交营业执照副本",
    )
    late = submit(EXPRESS)

    # Late work escalated two months on, to the department's admin and the
    # operator; the window then takes the case on, which resolves both.
    use_cases.escalate_late_tasks(service.uow, date.today() + timedelta(days=60))
    call("list_escalations", actor=DEPT_ADMIN)
    call("list_escalations", actor=OPERATOR)
    call("list_escalations", actor=OPERATOR, level="dept_admin", page="1", page_size="5")
    call("get_application", actor=OPERATOR, application_id=late)
    call("act", actor=CLERK, application_id=late, action="accept")

    # Fees paid before the decision, which then denies (the payment refunded);
    # an assessment step met by the zone's report.
    def own_notice(handler, event_type, application_id):
        (notice,) = [
            sent
            for sent in outbox(service.uow)
            if sent["type"] == event_type and sent["payload"]["application_id"] == application_id
        ]
        getattr(service, handler)(notice)
        notices.append((handler, notice))

    service.payment_platform = Platform()
    service.publish_process(actor=DEPT_ADMIN, item_id="item-fee", definition=FEE_FIRST)
    paid = submit(item_id="item-fee")
    call("act", actor=CLERK, application_id=paid, action="accept")
    own_notice("on_payment_step_started", "payment_step_started", paid)
    # Read, not recorded: the cases' answers above are what the tests unpack.
    order = service.get_application(actor=APPLICANT, application_id=paid)["payment"]
    call(
        "record_payment",
        event="order.paid",
        order_id=order["order_id"],
        reference=paid,
        state="paid",
        amount_fen=order["amount_fen"],
        occurred_at="2026-10-09T02:00:00Z",
    )
    call("act", actor=APPROVER, application_id=paid, action="deny", comment="不予许可")
    own_notice("on_payment_settlement_due", "payment_settlement_due", paid)
    service.publish_process(actor=DEPT_ADMIN, item_id="item-zone", definition=ZONED)
    zoned = call(
        "submit_application",
        actor=APPLICANT,
        item_id="item-zone",
        form={**FORM, "zone_id": ZONE["zone_id"]},
        materials=MATERIALS,
        delivery=ONLINE,
    )["application_id"]
    service._find_assessment = lambda **asked: {"zone": ZONE, "assessment": report()}
    own_notice("on_evidence_step_started", "evidence_step_started", zoned)
    call("act", actor=APPROVER, application_id=zoned, action="approve", step="decide")

    call("list_applications", actor=APPLICANT)
    call("list_applications", actor=APPLICANT, page="2", page_size="2")
    call("worklist", actor=CLERK)
    call("worklist", actor=CLERK, state="completed", page=1, page_size=100)
    call("worklist", actor=CLERK, signal="green", sort="due")
    call("list_licences", actor=APPLICANT)
    call("verify_licence", licence_no=approved["licence_no"])
    # The enterprise's licence: its document, checked as presented, held, revoked.
    licence_no = approved["licence_no"]
    shown = call("get_licence", actor=APPLICANT, licence_no=licence_no)
    call("verify_licence_document", document=shown["document"])
    call("licence_jwks")
    call(
        "check_held_licence",
        licence_no=licence_no,
        holder_ids=[ENTERPRISE["uscc"]],
        on="2026-10-09",
    )
    call("revoke_licence", actor=DEPT_ADMIN, licence_no=licence_no, reason="许可条件不再具备")
    return answers, notices


def assert_exactly(schema, answer) -> None:
    """``assert_documented``, and every non-null nested object against its own
    schema as well (OpenAPI 3.0 states a nullable nested object as "any object or
    null", so the document alone does not check its shape)."""
    assert_documented(schema, answer)
    schema = schema() if isinstance(schema, type) else schema
    for field in schema.fields.values():
        value = answer.get(field.data_key or field.name)
        inner = field.inner if isinstance(field, fields.List) else field
        if value is None or not isinstance(inner, fields.Nested):
            continue
        for entry in value if isinstance(field, fields.List) else [value]:
            assert_exactly(inner.schema, entry)


def test_every_answer_is_exactly_its_documented_schema(service):
    methods = rpc_methods()
    answers, _ = drive(service)
    for method, answer in answers:
        assert_exactly(methods[method].response, answer)
    assert {method for method, _ in answers} == set(methods), "every RPC method is exercised"


def test_the_answers_show_what_the_cases_hold(service):
    answers, _ = drive(service)
    cases = [answer for method, answer in answers if method == "get_application"]
    _, express, failing, waiting, for_person, suspended, no_window, refused, by_hand, late = cases
    assert (failing["state"], failing["clock"]["stopped_for"]) == ("submitted", "delivery")
    assert failing["shipment_failure"] == {
        "direction": "materials",
        "reason": "refused",
        "tracking_no": "EA123456785CN",
        "description": "收件人拒收",
        "failed_at": "2026-10-09T02:00:00Z",
        "attempt": 1,
        "choice": None,
    }
    assert [entry["action"] for entry in failing["available_actions"]] == [
        "withdraw",
        "reship_materials",
        "bring_to_window",
    ]
    assert failing["timeline"][-1]["action"] == "shipment_failed"
    assert express["shipment_failure"] is None
    assert express["state"] == "completed" and express["delivery"] == EXPRESS
    assert express["window"]["postcode"] == "210000"
    assert express["reviews"] == [
        {"department_code": "ks-xzsp", "decision": "approved"},
        {"department_code": "320102-XF", "decision": "approved"},
    ]
    assert [(step["id"], step["state"]) for step in express["steps"]] == [
        ("accept", "done"),
        ("joint", "done"),
    ]
    assert [branch["state"] for branch in express["steps"][1]["branches"]] == ["done", "done"]
    assert express["available_actions"] == []
    assert (waiting["state"], waiting["missing_materials"]) == (
        "supplement_requested",
        ["卫生许可证"],
    )
    assert waiting["clock"]["stopped_for"] == "supplement"
    assert waiting["available_actions"] == [
        {"action": "withdraw", "step": None},
        {"action": "supplement", "step": None},
    ]
    assert for_person["on_behalf_of"] == {**PERSON, "name": "王五"}
    assert for_person["mandate_id"] == "m-1"
    assert for_person["timeline"][0]["on_behalf_of"] == {**PERSON, "name": "王五"}
    principals = [answer for method, answer in answers if method == "get_principal"]
    assert principals == [
        {
            "application_id": for_person["application_id"],
            "kind": "person",
            "user_id": PERSON["user_id"],
            "name": "王五",
            "id_number": FakeIdentity.ID_NUMBER,
        },
        {
            "application_id": principals[1]["application_id"],
            "kind": "person",
            "user_id": None,
            "name": "赵六",
            "id_number": BY_NUMBER,
        },
    ]
    assert suspended["clock"]["stopped_for"] == "suspension"
    assert [s["state"] for s in suspended["extensions"]] == ["approved", "refused"]
    assert no_window["window"] is None
    assert no_window["delivery"] == {"mode": "window", "address": None}
    assert no_window["suspensions"][0]["result"] == "听证已举行"
    assert refused["state"] == "denied"
    assert refused["steps"][0]["auto"] == {
        "outcome": "denied",
        "failures": ["applicant.age ge 60 (is 35)"],
    }
    assert by_hand["steps"][0]["auto"] == {
        "outcome": "unavailable",
        "source": "public_security",
        "failures": [],
    }
    # A process without an accept step: the case stays submitted until its
    # step passes, so it cannot be suspended (that needs an accepted case).
    assert by_hand["state"] == "submitted"
    assert by_hand["available_actions"] == [
        {"action": "approve", "step": "eligibility"},
        {"action": "deny", "step": "eligibility"},
        {"action": "request_extension", "step": None},
    ]
    assert [(e["step_id"], e["level"], e["resolved_at"]) for e in late["escalations"]] == [
        ("accept", "dept_admin", None),
        ("accept", "operator", None),
    ]
    assert [entry["action"] for entry in late["timeline"]][-2:] == ["escalate", "escalate"]
    listed = [answer for method, answer in answers if method == "list_escalations"]
    assert [
        [(entry["application_id"], entry["level"]) for entry in page["items"]] for page in listed
    ] == [
        [(late["application_id"], "operator"), (late["application_id"], "dept_admin")],
        [(late["application_id"], "operator")],
        [(late["application_id"], "dept_admin")],
    ]
    # Listed today, when the task (due the next working day) is not late yet.
    assert {entry["signal"] for page in listed for entry in page["items"]} == {"yellow"}
    accepted = [
        answer
        for method, answer in answers
        if method == "act" and answer["application_id"] == late["application_id"]
    ]
    assert all(e["resolved_at"] is not None for e in accepted[-1]["escalations"])
    pages = [answer for method, answer in answers if method == "list_applications"]
    assert (pages[1]["page"], pages[1]["page_size"], pages[1]["total"]) == (2, 2, 13)
    (licences,) = [answer for method, answer in answers if method == "list_licences"]
    assert len(licences["items"]) == 5  # express, failing, for_enterprise, by_hand, zoned
    published = [answer for method, answer in answers if method == "publish_process"]
    # Answered as stored: the defaults written out.
    assert published == [
        {"item_id": "item-instant", "version": 1, "definition": {**INSTANT, "supplement_days": 30}}
    ]


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow):
    drive(service)
    # The case left open is late two months on; the materials never came.
    later = date.today() + timedelta(days=60)
    assert use_cases.mark_overdue_cases(uow, later) == 1
    assert use_cases.close_unsupplemented_cases(uow, later) == 1
    seen = set()
    for sent in outbox(uow):
        assert_exactly(contract.EVENTS[sent["type"]], sent["payload"])
        seen.add(sent["type"])
    assert seen == set(contract.EVENTS)


def test_events_are_consumed_as_their_producers_emit_them(service):
    handlers = event_handlers()
    assert {name: (h.source_service, h.event_type) for name, h in handlers.items()} == {
        "on_materials_received": ("courier", "materials_received"),
        "on_result_delivered": ("courier", "result_delivered"),
        "on_shipment_failed": ("courier", "shipment_failed"),
        "on_auto_step_started": ("workflow", "auto_step_started"),
        "on_evidence_step_started": ("workflow", "evidence_step_started"),
        "on_payment_step_started": ("workflow", "payment_step_started"),
        "on_payment_settlement_due": ("workflow", "payment_settlement_due"),
        "on_enterprise_registered": ("identity", "enterprise_registered"),
        "on_enterprise_member_added": ("identity", "enterprise_member_added"),
        "on_enterprise_member_removed": ("identity", "enterprise_member_removed"),
    }
    assert type(handlers["on_materials_received"].payload) is courier.MaterialsReceived
    assert type(handlers["on_result_delivered"].payload) is courier.ResultDelivered
    assert type(handlers["on_auto_step_started"].payload) is contract.AutoStepStarted
    producers = {
        "courier": courier.EVENTS,
        "workflow": contract.EVENTS,
        "identity": identity_contract.EVENTS,
    }
    _, notices = drive(service)
    for _, notice in notices:
        assert_documented(producers[notice["source"]][notice["type"]], notice["payload"])
    assert {handler for handler, _ in notices} == set(handlers)


def test_an_agents_application_reaches_the_domain(service):
    for principal in (ENTERPRISE, PERSON):
        request = load(
            contract.SubmitApplication,
            {
                "actor": APPLICANT,
                "item_id": "item-food-licence",
                "delivery": ONLINE,
                "on_behalf_of": principal,
            },
        )
        assert request["on_behalf_of"] == principal
        submitted = service.submit_application(
            actor=APPLICANT, item_id="item-food-licence", delivery=ONLINE, on_behalf_of=principal
        )
        shown = service.get_application(actor=APPLICANT, application_id=submitted["application_id"])
        assert shown["on_behalf_of"] == {**principal, "name": FakeIdentity.NAMES[principal["kind"]]}
        assert shown["form"] == {} and shown["materials"] == []


def test_the_bodies_are_the_requests_without_actor_and_path():
    pairs = [
        # The idempotency key comes from a header, not the body.
        (contract.SubmitApplicationBody, contract.SubmitApplication, {"idempotency_key"}),
        (contract.SupplementBody, contract.Supplement, {"application_id"}),
        (contract.ActBody, contract.Act, {"application_id"}),
        (contract.WithdrawBody, contract.Withdraw, {"application_id"}),
        (contract.ListApplicationsQuery, contract.ListApplications, set()),
        (contract.WorklistQuery, contract.Worklist, set()),
        (contract.ExtensionBody, contract.RequestExtension, {"application_id"}),
        (contract.ExtensionDecisionBody, contract.DecideExtension, {"application_id"}),
        (contract.SuspensionBody, contract.Suspend, {"application_id"}),
        (
            contract.EndSuspensionBody,
            contract.EndSuspension,
            {"application_id", "suspension_id"},
        ),
        (contract.ProcessBody, contract.PublishProcess, {"item_id"}),
        (contract.CalendarYearBody, contract.PutCalendarYear, {"year"}),
    ]
    for body, request, path in pairs:
        assert issubclass(request, body)
        assert set(request().fields) - set(body().fields) == {"actor", *path}


def examples() -> list[tuple[type[Schema], str, object]]:
    found = []
    for schema in vars(contract).values():
        if isinstance(schema, type) and issubclass(schema, Schema) and schema is not Schema:
            for name, field in schema().fields.items():
                if "example" in field.metadata:
                    found.append((schema, name, field.metadata["example"]))
    return found


@pytest.mark.parametrize(
    ("schema", "name", "example"), examples(), ids=lambda v: getattr(v, "__name__", str(v))
)
def test_examples_are_valid(schema, name, example):
    documented = json_schema_of(schema)["properties"][name]
    assert jsonschema_rs.Draft7Validator(documented, validate_formats=True).is_valid(example)
    # It also passes the validators OpenAPI cannot state (a licence number's date).
    schema().fields[name].deserialize(example)


def test_a_contract_error_names_the_field():
    with pytest.raises(Invalid) as refused:
        load(
            contract.SubmitApplicationBody,
            {
                "item_id": "",
                "delivery": {"mode": "express", "address": {"phone": "12"}},
                "materials": [{"name": "营业执照", "copies": "2"}],
                "on_behalf_of": {"kind": "person"},
            },
        )
    assert set(refused.value.fields) == {
        "item_id",
        "delivery.address.name",
        "delivery.address.phone",
        "delivery.address.province",
        "delivery.address.city",
        "delivery.address.district",
        "delivery.address.street",
        "delivery.address.postcode",
        "materials.0.copies",
        "on_behalf_of.user_id",
    }
