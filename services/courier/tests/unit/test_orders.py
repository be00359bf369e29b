"""EMS orders kept pending and placed by the timer: backoff while EMS does not
answer, the retry window, refusals, passes racing for one order, and new
shipments after a failure."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.testing import assert_documented, outbox
from services.courier import contract, metrics
from services.courier.adapters.ems import EmsRejected
from services.courier.adapters.orm import metadata
from services.courier.domain.orders import PendingOrder, idempotency_key, retry_delay
from services.courier.service_layer import use_cases
from services.courier.service_layer.orders import PlacingSettings, place_pending_orders

from .builders import (
    APPLICANT_ADDRESS,
    CITIZEN,
    application_submitted,
    delivered,
    licence_issued,
    redelivery_requested,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SETTINGS = PlacingSettings(retry_window=timedelta(hours=48), retry_seconds=5.0)
NEW_ADDRESS = {
    "name": "张三",
    "phone": "13800138001",
    "province": "江苏省",
    "city": "无锡市",
    "district": "梁溪区",
    "street": "中山路1号",
    "postcode": "214000",
}


def rows(uow, table):
    with uow:
        return [dict(r) for r in uow.session.execute(sa.select(metadata.tables[table])).mappings()]


def keep(uow, envelope, at=T0):
    handler = {
        "application_submitted": use_cases.ship_materials,
        "licence_issued": use_cases.ship_result,
        "redelivery_requested": use_cases.ship_again,
    }[envelope["type"]]
    return handler(uow, delivered(envelope), now=at)


def place(uow, ems, at):
    return place_pending_orders(uow, ems, settings=SETTINGS, clock=lambda: at)


def attempts(outcome):
    return metrics.EMS_ORDER_ATTEMPTS.labels(outcome)._value.get()


def test_an_order_ems_does_not_take_is_retried_with_backoff_then_placed(uow, ems):
    keep(uow, application_submitted("app-1"))
    ems.available = False
    retried_before, placed_before = attempts("retried"), attempts("placed")

    assert place(uow, ems, T0)["retried"] == 1
    [order] = rows(uow, "pending_orders")
    assert order["attempts"] == 1
    assert place(uow, ems, T0 + timedelta(seconds=4)) == {
        "placed": 0,
        "retried": 0,
        "gave_up": 0,
        "rejected": 0,
    }
    assert place(uow, ems, T0 + timedelta(seconds=5))["retried"] == 1  # then 10 s
    assert place(uow, ems, T0 + timedelta(seconds=14))["retried"] == 0
    ems.available = True
    assert place(uow, ems, T0 + timedelta(seconds=15))["placed"] == 1

    assert [call["idempotency_key"] for call in ems.calls] == ["app-1:materials"] * 3
    assert rows(uow, "pending_orders") == []
    [shipment] = rows(uow, "shipments")
    assert shipment["status"] == "created"
    assert shipment["tracking_no"] == ems.orders["app-1:materials"]
    [event] = outbox(uow)
    assert event["type"] == "shipment_created"
    assert attempts("retried") == retried_before + 2
    assert attempts("placed") == placed_before + 1


def test_after_the_retry_window_the_shipment_fails_as_ems_unavailable(uow, ems):
    keep(uow, licence_issued("app-1"))
    ems.available = False
    place(uow, ems, T0)
    calls = len(ems.calls)

    # The delays double up to a quarter of an hour; no attempt is set after the end.
    at = T0
    for _ in range(400):
        at += timedelta(minutes=15)
        place(uow, ems, at)
        if not rows(uow, "pending_orders"):
            break
    assert at <= T0 + timedelta(hours=48, minutes=15)

    [shipment] = rows(uow, "shipments")
    assert (shipment["status"], shipment["tracking_no"]) == ("failed", None)
    assert len(ems.calls) > calls
    [event] = outbox(uow)
    assert event["type"] == "shipment_failed"
    payload = event["payload"]
    assert payload["reason"] == "ems_unavailable"
    assert payload["tracking_no"] is None
    assert (payload["application_id"], payload["direction"], payload["attempt"]) == (
        "app-1",
        "result",
        1,
    )
    assert payload["description"].startswith("EMS could not be reached")
    assert_documented(contract.ShipmentFailed, payload)
    [listed] = use_cases.list_shipments(uow, CITIZEN, "app-1")["items"]
    assert listed["status"] == "failed"


def test_an_order_already_past_its_window_is_given_up_without_calling_ems(uow, ems):
    keep(uow, application_submitted("app-1"))

    assert place(uow, ems, T0 + timedelta(hours=48))["gave_up"] == 1

    assert ems.calls == []
    assert outbox(uow)[-1]["payload"]["reason"] == "ems_unavailable"


def test_an_order_ems_refuses_fails_at_once(uow, ems):
    keep(uow, application_submitted("app-1"))

    def refuse(**order):
        raise EmsRejected(400, "invalid order", {"sender.postcode": "must be 6 digits"})

    ems.create_order = refuse
    assert place(uow, ems, T0)["rejected"] == 1

    [event] = outbox(uow)
    assert (event["type"], event["payload"]["reason"]) == ("shipment_failed", "ems_rejected")
    assert rows(uow, "pending_orders") == []


def test_a_pass_stops_at_the_first_order_ems_does_not_answer(uow, ems):
    for application_id in ("app-1", "app-2", "app-3"):
        keep(uow, application_submitted(application_id))
    ems.available = False

    place(uow, ems, T0)

    assert len(ems.calls) == 1
    ems.available = True
    assert place(uow, ems, T0)["placed"] == 2  # the two never tried are due
    assert place(uow, ems, T0 + timedelta(seconds=5))["placed"] == 1


def test_an_outcome_saved_after_another_attempt_began_is_dropped(uow, ems):
    """Two passes on one order (the first outlived its lease): EMS gives both
    the same waybill, and only one outcome is stored."""
    keep(uow, application_submitted("app-1"))
    real = ems.create_order

    def slow(**order):
        # Meanwhile another pass starts an attempt on the same order.
        with uow:
            uow.session.execute(metadata.tables["pending_orders"].update().values(attempts=5))
            uow.commit()
        return real(**order)

    ems.create_order = slow
    outcome = place(uow, ems, T0)

    assert outcome["placed"] == 0
    [shipment] = rows(uow, "shipments")
    assert shipment["status"] == "pending"
    assert outbox(uow) == []


def test_a_claimed_order_is_not_due_again_while_its_attempt_runs():
    order = PendingOrder.queue("shp-1", "app-1:materials", T0)
    assert order.is_due(T0)
    order.start_attempt(T0)
    assert not order.is_due(T0 + timedelta(minutes=4))
    assert order.is_due(T0 + timedelta(minutes=5))


def test_the_backoff_doubles_up_to_its_cap_and_never_passes_the_window():
    assert [retry_delay(n, 5, 60).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        5,
        10,
        20,
        40,
        60,
    ]
    order = PendingOrder.queue("shp-1", "k", T0, timedelta(seconds=30))
    order.start_attempt(T0 + timedelta(seconds=29))
    order.attempt_failed("down", T0 + timedelta(seconds=29))
    assert order.next_attempt_at == T0 + timedelta(seconds=30)
    assert order.expired(order.next_attempt_at)


def test_the_idempotency_key_names_the_attempt_after_the_first():
    assert idempotency_key("app-1", "result") == "app-1:result"
    assert idempotency_key("app-1", "result", 2) == "app-1:result:2"


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"EMS_ORDER_RETRY_HOURS": "0"}, "EMS_ORDER_RETRY_HOURS"),
        ({"EMS_ORDER_RETRY_HOURS": "a lot"}, "EMS_ORDER_RETRY_HOURS"),
        ({"EMS_ORDER_PLACE_SECONDS": "-1"}, "EMS_ORDER_PLACE_SECONDS"),
        ({"EMS_ORDER_RETRY_SECONDS": "nan"}, "EMS_ORDER_RETRY_SECONDS"),
    ],
)
def test_a_bad_setting_is_named(config, name):
    with pytest.raises(ValueError, match=name):
        PlacingSettings.from_config(config)


def test_settings_default_to_two_days_of_retries():
    settings = PlacingSettings.from_config({"EMS_ORDER_RETRY_HOURS": ""})
    assert settings.retry_window == timedelta(hours=48)
    assert PlacingSettings.from_config({"EMS_ORDER_RETRY_HOURS": "0.5"}).retry_window == (
        timedelta(minutes=30)
    )


# ------------------------------------------------------- shipping again


def failed(uow, ems, envelope):
    """Keep, place and fail the first shipment of ``envelope``."""
    shipment_id = keep(uow, envelope)
    place(uow, ems, T0)
    with uow:
        tracking_no = uow.shipments.get_by_id(shipment_id).tracking_no
    use_cases.record_ems_event(
        uow, tracking_no, "failed", T0, "南京", "收件人拒收", reason="refused"
    )
    return tracking_no


def test_a_redelivery_is_a_new_shipment_from_the_new_address(uow, ems):
    failed(uow, ems, application_submitted("app-1"))

    shipment_id = keep(uow, redelivery_requested("app-1", "materials", NEW_ADDRESS, 2))
    place(uow, ems, T0)

    call = ems.calls[-1]
    assert call["idempotency_key"] == "app-1:materials:2"
    assert call["sender"] == NEW_ADDRESS
    assert call["recipient"]["name"] == "南京市民中心综合窗口"
    with uow:
        again = uow.shipments.get_by_id(shipment_id)
    assert (again.attempt, again.status) == (2, "created")
    listed = use_cases.list_shipments(uow, CITIZEN, "app-1")["items"]
    assert [(s["attempt"], s["status"]) for s in listed] == [(1, "failed"), (2, "created")]
    created = outbox(uow)[-1]
    assert (created["type"], created["payload"]["attempt"]) == ("shipment_created", 2)


def test_a_redelivery_without_an_address_goes_between_the_same_ends(uow, ems):
    failed(uow, ems, licence_issued("app-1"))

    keep(uow, redelivery_requested("app-1", "result", None, 2))
    place(uow, ems, T0)

    first, second = ems.calls
    assert second["sender"] == first["sender"]
    assert second["recipient"] == first["recipient"] == APPLICANT_ADDRESS
    assert second["idempotency_key"] == "app-1:result:2"


def test_a_repeated_redelivery_makes_one_shipment(uow, ems):
    failed(uow, ems, licence_issued("app-1"))
    envelope = redelivery_requested("app-1", "result", NEW_ADDRESS, 2)

    first = keep(uow, envelope)
    assert keep(uow, envelope) is None
    assert keep(uow, redelivery_requested("app-1", "result", NEW_ADDRESS, 2)) == first

    assert len(rows(uow, "shipments")) == 2


def test_a_redelivery_for_an_application_never_shipped_changes_nothing(uow):
    assert keep(uow, redelivery_requested("app-9", "result", None, 2)) is None
    assert rows(uow, "shipments") == []
    assert len(rows(uow, "handled_events")) == 1
