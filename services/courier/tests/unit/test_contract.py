"""The courier contract holds on both sides: workflow's events, fed as workflow
publishes them, are handled; every RPC method, driven with the arguments the
gateway sends, answers exactly what its response schema documents; and every
event the domain records is exactly its documented payload."""

import pytest
from marshmallow import Schema
from nameko.testing.services import worker_factory

from services.common.entrypoints import ContractEventHandler, ContractRpc, contract_entrypoints
from services.common.errors import Invalid
from services.common.schemas import load
from services.common.testing import assert_documented, outbox
from services.courier import contract
from services.courier.service import CourierService
from services.workflow import contract as workflow

from .builders import (
    CITIZEN,
    CLERK,
    OPERATOR,
    application_submitted,
    licence_issued,
    redelivery_requested,
)


@pytest.fixture
def service(uow, ems):
    return worker_factory(CourierService, uow=uow, ems=ems, config={})


def workflow_events() -> list[dict]:
    """What workflow publishes for two express applications: app-1 and app-2
    submitted, then their licences issued; app-2's materials shipped again."""
    return [
        application_submitted("app-1"),
        application_submitted("app-2"),
        application_submitted("app-3", mode="online", window=None),
        licence_issued("app-1"),
        licence_issued("app-2"),
        redelivery_requested("app-2", "materials"),
    ]


def handle(service, envelope) -> None:
    handler = {
        "application_submitted": service.on_application_submitted,
        "licence_issued": service.on_licence_issued,
        "redelivery_requested": service.on_redelivery_requested,
    }[envelope["type"]]
    assert handler(envelope) is None


def shipped(service) -> dict[tuple[str, str], str]:
    """Tracking numbers by (application, direction)."""
    found = {}
    for application_id in ("app-1", "app-2"):
        answer = service.list_shipments(actor=OPERATOR, application_id=application_id)
        for shipment in answer["items"]:
            found[application_id, shipment["direction"]] = shipment["tracking_no"]
    return found


def calls(service) -> list[tuple[str, dict]]:
    """Each RPC method with arguments as the gateway sends them (the webhook's
    body as EMS posts it), in an order in which each succeeds; the handlers have
    run."""
    for envelope in workflow_events():
        handle(service, envelope)
    service.place_orders()  # the timer places the orders the handlers kept
    waybill = shipped(service)
    scan = {"occurred_at": "2026-11-25T08:00:00Z", "location": "南京市建邺区"}
    return [
        ("list_shipments", {"actor": CITIZEN, "application_id": "app-1"}),
        ("get_shipment", {"actor": CLERK, "tracking_no": waybill["app-1", "materials"]}),
        (
            "record_ems_event",
            {
                "tracking_no": waybill["app-1", "materials"],
                "status": "accepted",
                "occurred_at": "2026-11-25T06:00:00+08:00",
                "reference": "app-1",
            },
        ),
        (
            "record_ems_event",
            {
                "tracking_no": waybill["app-1", "materials"],
                "status": "delivered",
                "description": "已签收",
                "reference": None,
                **scan,
            },
        ),
        (
            "record_ems_event",
            {"tracking_no": waybill["app-1", "materials"], "status": "delivered", **scan},
        ),
        (
            "record_ems_event",
            {
                "tracking_no": waybill["app-1", "result"],
                "status": "failed",
                "description": "收件人拒收",
                "reason": "refused",
                **scan,
            },
        ),
        (
            "record_ems_event",
            {"tracking_no": waybill["app-2", "result"], "status": "delivered", **scan},
        ),
        ("get_shipment", {"actor": CITIZEN, "tracking_no": waybill["app-1", "materials"]}),
        ("list_shipments", {"actor": OPERATOR, "application_id": "app-2"}),
        ("list_shipments", {"actor": CITIZEN, "application_id": "app-3"}),
    ]


def test_workflow_events_are_fed_as_workflow_documents_them():
    for envelope in workflow_events():
        assert_documented(workflow.EVENTS[envelope["type"]], envelope["payload"])


def test_every_handler_reads_workflows_own_schema():
    handlers = {
        name: entrypoint
        for name, entrypoint in contract_entrypoints(CourierService)
        if isinstance(entrypoint, ContractEventHandler)
    }
    assert {
        name: (e.source_service, e.event_type, type(e.payload)) for name, e in handlers.items()
    } == {
        "on_application_submitted": (
            "workflow",
            "application_submitted",
            workflow.ApplicationSubmitted,
        ),
        "on_licence_issued": ("workflow", "licence_issued", workflow.LicenceIssued),
        "on_redelivery_requested": (
            "workflow",
            "redelivery_requested",
            workflow.RedeliveryRequested,
        ),
    }


def test_every_answer_is_exactly_its_documented_schema(service):
    entrypoints = dict(contract_entrypoints(CourierService))
    # by calls()
    called = {"on_application_submitted", "on_licence_issued", "on_redelivery_requested"}
    for method, arguments in calls(service):
        answer = getattr(service, method)(**arguments)
        entrypoint = entrypoints[method]
        assert isinstance(entrypoint, ContractRpc), method
        assert entrypoint.response is not None, method
        assert_documented(entrypoint.response, answer)
        called.add(method)
    assert called == set(entrypoints), "every RPC method and handler is exercised here"


def test_the_answers_cover_what_the_schemas_name(service):
    """Not vacuous: the answers above carry entries, tracking with empty texts,
    every direction, and a repeated scan that changed nothing."""
    answers = [(m, getattr(service, m)(**a)) for m, a in calls(service)]
    listed = [item for m, answer in answers if m == "list_shipments" for item in answer["items"]]
    assert {item["direction"] for item in listed} == {"materials", "result"}
    [*_, detail] = [answer for m, answer in answers if m == "get_shipment"]
    assert [entry["status"] for entry in detail["tracking"]] == ["accepted", "delivered"]
    assert detail["tracking"][0]["description"] == ""
    assert [answer["changed"] for m, answer in answers if m == "record_ems_event"] == [
        True,
        True,
        False,
        True,
        True,
    ]


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow):
    for method, arguments in calls(service):
        getattr(service, method)(**arguments)
    seen = set()
    for envelope in outbox(uow):
        assert envelope["source"] == "courier"
        assert_documented(contract.EVENTS[envelope["type"]], envelope["payload"])
        seen.add(envelope["type"])
    assert seen == set(contract.EVENTS)


def test_the_webhook_body_is_the_rpc_request():
    """The gateway validates EMS's body with EmsScanBody and forwards it whole."""
    body = {
        "tracking_no": "EA123456785CN",
        "status": "delivered",
        "occurred_at": "2026-11-25T08:00:00Z",
        "location": "南京",
        "description": "已签收",
        "reference": "ems-evt-1",
    }
    assert load(contract.EmsScan, body) == load(contract.EmsScanBody, body)
    assert set(contract.EmsScan().fields) == set(contract.EmsScanBody().fields)


@pytest.mark.parametrize(
    ("schema", "data", "fields"),
    [
        (contract.ShipmentQuery, {"application_id": ""}, {"application_id"}),
        (contract.ShipmentQuery, {"application_id": "app-1", "page": "1"}, {"page"}),
        (
            contract.EmsScanBody,
            {"tracking_no": "x", "status": "teleported", "occurred_at": "2026-11-25 08:00"},
            {"tracking_no", "status", "occurred_at"},
        ),
        (
            contract.EmsScanBody,
            {"tracking_no": "EA123456785CN", "status": "delivered"},
            {"occurred_at"},
        ),
    ],
)
def test_a_contract_error_names_the_field(schema, data, fields):
    with pytest.raises(Invalid) as refused:
        load(schema, data)
    assert set(refused.value.fields) == fields


def _schemas() -> list[type[Schema]]:
    return [
        value
        for value in vars(contract).values()
        if isinstance(value, type) and issubclass(value, Schema) and value is not Schema
    ]


@pytest.mark.parametrize("schema", _schemas(), ids=lambda schema: schema.__name__)
def test_every_example_is_valid(schema):
    for name, field in schema().fields.items():
        if "example" in field.metadata:
            field.deserialize(field.metadata["example"])  # raises if it is not
        assert not (
            field.__class__.__name__ in ("Function", "Method") and "type" not in field.metadata
        ), name
