"""Steps met by evidence (a zone's assessment, a licence held) and fees paid
online: the domain alone, then the use cases on a SQLite unit of work with the
catalog, the licences and the payment platform faked."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common import errors
from services.common.testing import envelope, outbox
from services.workflow.domain.exceptions import InvalidTransition, NotFound, ValidationFailed
from services.workflow.domain.model import CHINA_TZ, State
from services.workflow.domain.process import ProcessDefinition
from services.workflow.service_layer import evidence, payments, use_cases

from .conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    FORM,
    MATERIALS,
    NOW,
    ONLINE,
    OTHER_CITIZEN,
    OWN,
    act,
    item,
    licence_numbers,
    make_item,
    submit,
)

LATER = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday, after National Day
FEE = {
    "name": "证书工本费",
    "amount_fen": 1050,
    "standard": "每证10.50元",
    "legal_basis": "苏价费〔2018〕1号",
    "waivable": True,
}
FIXED_FEE = {**FEE, "name": "检测费", "amount_fen": 300, "waivable": False}
SENIORS = {
    "description": "70周岁以上老年人免收工本费",
    "rule": {"fact": "applicant.age", "op": "ge", "value": 70},
}
ACCEPT = {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1}
DECIDE = {"id": "decide", "kind": "approve", "role": "approver", "days": 2}
EIA = {"id": "eia", "kind": "assessment", "assessment_kind": "environmental_impact", "days": 3}
FOOD_LICENCE = {
    "id": "held",
    "kind": "licence",
    "licence_type": "JY",
    "role": "approver",
    "days": 2,
}


def process(*steps) -> ProcessDefinition:
    return ProcessDefinition.parse({"steps": list(steps)})


def fee_item(fees=(FEE,), waiver=None):
    return replace(make_item(), fees=tuple(fees), fee_waiver=waiver)


def states(app) -> list[tuple[str, str]]:
    return [(run.id, str(run.state)) for run in app.steps]


def types(app) -> list[str]:
    return [event.type for event in app.events]


# ------------------------------------------------------------------ definitions


def test_evidence_and_payment_steps_parse_and_show_as_written():
    definition = process(ACCEPT, EIA, FOOD_LICENCE, {"id": "pay", "kind": "payment"}, DECIDE)
    shown = definition.to_dict()["steps"]
    assert shown[1] == {**EIA, "role": "approver"}
    assert shown[2] == FOOD_LICENCE
    assert shown[3] == {"id": "pay", "kind": "payment", "days": 15}
    # Paying takes calendar days with the clock stopped: none of the limit.
    assert definition.total_days == 1 + 3 + 2 + 2
    assert ProcessDefinition.parse(definition.to_dict()) == definition


@pytest.mark.parametrize(
    ("step", "field", "problem"),
    [
        ({**EIA, "assessment_kind": "noise"}, "steps.1.assessment_kind", "must be one of"),
        ({**EIA, "licence_type": "JY"}, "steps.1.licence_type", "only a step of kind licence"),
        ({**EIA, "role": "window_clerk"}, "steps.1.role", "approver's"),
        ({**FOOD_LICENCE, "licence_type": "jy"}, "steps.1.licence_type", "licence type code"),
        ({"id": "pay", "kind": "payment", "role": "approver"}, "steps.1.role", "no role"),
        ({"id": "pay", "kind": "payment", "days": 0}, "steps.1.days", "calendar days"),
        ({**DECIDE, "assessment_kind": "flood_impact"}, "steps.1.assessment_kind", "only"),
    ],
)
def test_a_bad_evidence_or_payment_step_is_named(step, field, problem):
    with pytest.raises(ValidationFailed) as refused:
        process(ACCEPT, step, DECIDE)
    assert problem in refused.value.fields[field]


def test_a_process_pays_once_and_decides_something():
    pay = {"id": "pay", "kind": "payment"}
    with pytest.raises(ValidationFailed) as twice:
        process(ACCEPT, pay, {**pay, "id": "again"}, DECIDE)
    assert twice.value.fields == {"steps.2.kind": "a process has at most one payment step"}
    with pytest.raises(ValidationFailed) as nothing:
        process(ACCEPT, pay)
    assert "steps" in nothing.value.fields


def test_fees_add_a_payment_step_after_the_last_one_unless_the_process_has_one():
    app = submit(item=fee_item(), process=process(ACCEPT, DECIDE), process_version=3)
    assert [run.id for run in app.steps] == ["accept", "decide", "payment"]
    assert app.process.step("payment").days == 15
    assert app.process_version == 3
    placed = process(ACCEPT, {"id": "fee", "kind": "payment", "days": 7}, DECIDE)
    app = submit(item=fee_item(), process=placed, process_version=1)
    assert [run.id for run in app.steps] == ["accept", "fee", "decide"]
    free = submit(item=fee_item(fees=()), process=process(ACCEPT, DECIDE), process_version=1)
    assert [run.id for run in free.steps] == ["accept", "decide"]
    assert free.payment is None


def test_fees_from_the_catalogue_are_exact_and_odd_ones_are_dropped():
    snapshot = make_item().from_catalog(
        item(
            fees=[FEE, {"name": "x", "amount_fen": 1.5}, {"name": "y", "amount_fen": -1}, "z"],
            fee_waiver=SENIORS,
            transferred_from="320102-SCJ",
        )
    )
    assert snapshot.fees == (FEE,)
    assert snapshot.fee_waiver == SENIORS
    assert snapshot.transferred_from == "320102-SCJ"
    # The free text the catalogue once had is no fee.
    assert make_item().from_catalog(item()).fees == ()
    assert make_item().from_catalog(item(fee_waiver={"description": "x"})).fee_waiver is None


# ------------------------------------------------------------ evidence (domain)


def test_an_assessment_step_opens_without_work_and_waits_for_its_lookup():
    app = submit(process=process(ACCEPT, EIA, DECIDE), process_version=1)
    act(app, CLERK, "accept")
    assert types(app)[-1] == "evidence_step_started"
    assert app.events[-1].step_id == "eia"
    run, definition = app.evidence_step()
    assert (run.id, run.tasks, definition.assessment_kind) == ("eia", [], "environmental_impact")
    # Nobody may decide it yet.
    assert not [a for a in app.available_actions(APPROVER) if a["step"] == "eia"]
    with pytest.raises(InvalidTransition):
        act(app, APPROVER, "approve", step="eia")


def test_a_report_covers_the_step_at_once():
    app = submit(process=process(ACCEPT, EIA, DECIDE), process_version=1)
    act(app, CLERK, "accept")
    report = {"kind": "assessment", "id": "as-1", "title": "江宁开发区区域环评"}
    app.cover_evidence_step(report, calendar=_cal(), licence_numbers=licence_numbers(), now=NOW)
    assert states(app) == [("accept", "done"), ("eia", "done"), ("decide", "active")]
    assert app.steps[1].covered_by == report
    assert app.steps[1].evidence == {"outcome": "covered", "reason": ""}
    entry = app.timeline[-1]
    assert (entry.action, entry.actor_role, entry.step) == ("evidence_covered", "system", "eia")
    assert "as-1" in entry.comment
    assert app.evidence_step() is None
    with pytest.raises(InvalidTransition):
        app.cover_evidence_step(report, calendar=_cal(), licence_numbers=licence_numbers())


def test_a_covered_last_step_approves_the_case():
    app = submit(process=process(EIA), process_version=1)
    report = {"kind": "assessment", "id": "as-1", "title": "环评"}
    app.cover_evidence_step(report, calendar=_cal(), licence_numbers=licence_numbers(), now=NOW)
    assert app.state == State.COMPLETED
    assert app.licence_no


def test_without_evidence_the_steps_role_checks_and_decides():
    own_department = {**EIA, "department_code": "js-sthjt", "days": 4}
    app = submit(process=process(ACCEPT, own_department, DECIDE), process_version=1)
    act(app, CLERK, "accept")
    app.evidence_to_person("not_covered", "no report valid today", calendar=_cal(), now=NOW)
    run = app.steps[1]
    assert run.evidence == {"outcome": "not_covered", "reason": "no report valid today"}
    (task,) = run.tasks
    assert (task.department_code, task.role, task.days) == ("js-sthjt", "approver", 4)
    assert run.due_date == task.due_date == _cal().add_working_days(date(2026, 9, 29), 4)
    assert app.timeline[-1].action == "evidence_not_covered"
    reviewer = {**APPROVER, "department_code": "js-sthjt"}
    assert {"action": "approve", "step": "eia"} in app.available_actions(reviewer)
    act(app, reviewer, "deny", "环评报告未获批复")
    assert app.state == State.DENIED
    assert app.steps[1].covered_by is None


# ------------------------------------------------------------- payment (domain)


def test_the_case_waits_for_payment_with_its_clock_stopped_then_moves_on():
    app = submit(item=fee_item(), process=process(ACCEPT, DECIDE), process_version=1)
    act(app, CLERK, "accept")
    act(app, APPROVER, "approve")
    assert states(app)[-1] == ("payment", "active")
    assert app.state == State.ACCEPTED  # decided, but no licence before the fees
    assert app.licence_no is None
    assert (app.clock.stopped_for, app.clock.stopped_on) == ("payment", date(2026, 9, 29))
    payment = app.payment
    assert (payment.state, payment.amount_fen, payment.due_on) == (
        "ordering",
        1050,
        date(2026, 10, 14),
    )
    assert types(app)[-1] == "payment_step_started"
    # Nothing to pay before the order exists.
    assert {"action": "pay", "step": "payment"} not in app.available_actions(APPLICANT)
    assert app.payment_ordered("o-1", "http://cashier/o-1", 1050, now=NOW)
    assert not app.payment_ordered("o-1", "http://cashier/o-1", 1050, now=NOW)
    assert {"action": "pay", "step": "payment"} in app.available_actions(APPLICANT)
    assert app.available_actions(OTHER_CITIZEN) == []
    assert app.timeline[-1].action == "request_payment"
    assert "10.50" in app.timeline[-1].comment
    assert types(app)[-1] == "payment_requested"

    due, legal_due = app.due_date, app.legal_due_date
    paid = app.payment_received(
        "o-1", 1050, calendar=_cal(), licence_numbers=licence_numbers(), now=LATER
    )
    assert paid
    # 29 Sep -> 12 Oct: 2 working days stood still (30 Sep and 12 Oct; the
    # National Day week off, the 11th a make-up working day).
    waited = _cal().working_days_between(date(2026, 9, 29), date(2026, 10, 12))
    assert app.due_date == _cal().add_working_days(due, waited)
    assert app.legal_due_date == _cal().add_working_days(legal_due, waited)
    assert app.clock.running
    assert app.state == State.COMPLETED
    assert app.licence_no
    assert app.payment.state == "paid"
    pay = next(entry for entry in app.timeline if entry.action == "pay")
    assert (pay.actor_id, pay.actor_role) == (APPLICANT["user_id"], "applicant")
    assert "payment_received" in types(app)
    assert types(app).index("payment_received") < types(app).index("licence_issued")
    # The same notice again changes nothing.
    assert not app.payment_received(
        "o-1", 1050, calendar=_cal(), licence_numbers=licence_numbers(), now=LATER
    )


def test_a_notice_of_another_order_or_amount_is_refused():
    app = _ordered(process(ACCEPT, DECIDE))
    with pytest.raises(NotFound):
        app.payment_received("o-2", 1050, calendar=_cal(), licence_numbers=licence_numbers())
    with pytest.raises(ValidationFailed) as wrong:
        app.payment_received("o-1", 1, calendar=_cal(), licence_numbers=licence_numbers())
    assert "amount_fen" in wrong.value.fields
    assert app.payment.state == "pending"


def test_a_paid_case_denied_later_is_refunded():
    placed = process(ACCEPT, {"id": "fee", "kind": "payment"}, DECIDE)
    app = _ordered(placed)
    app.payment_received("o-1", 1050, calendar=_cal(), licence_numbers=licence_numbers(), now=NOW)
    assert states(app) == [("accept", "done"), ("fee", "done"), ("decide", "active")]
    act(app, APPROVER, "deny", "不符合条件", now=LATER)
    assert app.state == State.DENIED
    assert app.payment.state == "refunding"
    (settle,) = [e for e in app.events if e.type == "payment_settlement_due"]
    assert settle.action == "refund"
    assert app.payment_refunded("rf-1", now=LATER)
    assert not app.payment_refunded("rf-1", now=LATER)
    assert (app.payment.state, app.payment.refund_id) == ("refunded", "rf-1")
    assert types(app)[-1] == "payment_refunded"
    assert app.events[-1].amount_fen == 1050
    assert app.timeline[-1].action == "refund"


def test_a_withdrawn_case_cancels_its_order_and_a_late_payment_is_refunded():
    app = _ordered(process(ACCEPT, DECIDE))
    app.withdraw(APPLICANT, now=LATER)
    assert (app.state, app.payment.state) == (State.WITHDRAWN, "cancelling")
    (settle,) = [e for e in app.events if e.type == "payment_settlement_due"]
    assert settle.action == "cancel"
    assert app.available_actions(APPLICANT) == []
    # Paid at the cashier before the order was cancelled: refunded.
    assert app.payment_received(
        "o-1", 1050, calendar=_cal(), licence_numbers=licence_numbers(), now=LATER
    )
    assert (app.state, app.payment.state) == (State.WITHDRAWN, "refunding")
    assert app.licence_no is None
    assert types(app)[-2:] == ["payment_received", "payment_settlement_due"]


def test_an_order_not_paid_in_time_ends_the_case_as_withdrawn():
    app = _ordered(process(ACCEPT, DECIDE))
    due_on = app.payment.due_on
    assert not app.expire_payment(due_on, now=LATER)
    assert app.expire_payment(due_on + timedelta(days=1), now=LATER)
    assert (app.state, app.payment.state) == (State.WITHDRAWN, "cancelling")
    assert app.timeline[-1].action == "not_paid"
    assert "application_withdrawn" in types(app)
    assert not app.expire_payment(due_on + timedelta(days=2), now=LATER)


def test_nothing_left_to_pay_passes_the_step_with_the_waiver_recorded():
    app = submit(item=fee_item(), process=process(ACCEPT, DECIDE), process_version=1)
    act(app, CLERK, "accept")
    act(app, APPROVER, "approve")
    waiver = {"description": SENIORS["description"], "waived_fen": 1050}
    app.payment_not_due(waiver, calendar=_cal(), licence_numbers=licence_numbers(), now=NOW)
    assert app.state == State.COMPLETED
    assert (app.payment.state, app.payment.amount_fen, app.payment.waiver) == ("waived", 0, waiver)
    assert app.timeline[-3].action == "waive_payment"
    assert app.clock.running


def test_a_payment_round_trips_through_its_dict():
    app = _ordered(process(ACCEPT, DECIDE))
    stored = app.payment.to_dict()
    assert type(app.payment).from_dict(stored) == app.payment
    assert type(app.payment).from_dict(None) is None


# -------------------------------------------------------------- use cases


def _cal():
    from .conftest import CAL

    return CAL


def _ordered(definition):
    app = submit(item=fee_item(), process=definition, process_version=1)
    act(app, CLERK, "accept")
    if app.payment is None:
        act(app, APPROVER, "approve")
    app.payment_ordered("o-1", "http://cashier/o-1", 1050, now=NOW)
    return app


def publish(uow, *steps, item_id="item-food-licence"):
    with uow:
        uow.processes.add(item_id, process(*steps), None)
        uow.commit()


def submit_case(uow, form=FORM, materials=MATERIALS, **changes):
    return use_cases.submit_application(
        uow, item(joint_departments=[], **changes), APPLICANT, form, materials, ONLINE, now=NOW
    )


def started(uow, application_id, event_type):
    (found,) = [
        sent
        for sent in outbox(uow)
        if sent["type"] == event_type and sent["payload"]["application_id"] == application_id
    ]
    return found


def view(uow, application_id):
    return use_cases.get_application(uow, APPLICANT, application_id)


ZONE = {"zone_id": "z-jn", "name": "南京江宁经济技术开发区", "region_code": "320115"}


def report(**changes):
    return {
        "assessment_id": "as-1",
        "zone_id": "z-jn",
        "kind": "environmental_impact",
        "title": "江宁开发区区域环评报告",
        "approved_by": "南京市生态环境局",
        "valid_from": "2025-01-01",
        "valid_to": "2027-12-31",
        **changes,
    }


class Catalog:
    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.asked = answer, error, []

    def __call__(self, **arguments):
        self.asked.append(arguments)
        if self.error is not None:
            raise self.error
        return self.answer


def test_a_zone_with_a_valid_report_covers_the_step_once(uow):
    publish(uow, EIA, DECIDE)
    application_id = submit_case(uow, form={**FORM, "zone_id": "z-jn"}).application_id
    event = started(uow, application_id, "evidence_step_started")
    catalog = Catalog({"zone": ZONE, "assessment": report()})
    assert evidence.decide_evidence_step(uow, event, catalog, now=LATER) == "covered"
    assert catalog.asked == [
        {"zone_id": "z-jn", "kind": "environmental_impact", "on": "2026-10-12"}
    ]
    case = view(uow, application_id)
    assert case.steps[0]["covered_by"] == {
        "kind": "assessment",
        "id": "as-1",
        "title": "江宁开发区区域环评报告",
    }
    assert case.steps[0]["evidence"]["outcome"] == "covered"
    assert [s["state"] for s in case.steps] == ["done", "active"]
    # The same event again, or one for a step decided already: nothing.
    assert evidence.decide_evidence_step(uow, event, catalog, now=LATER) is None
    again = envelope("workflow", "evidence_step_started", event["payload"])
    assert evidence.decide_evidence_step(uow, again, catalog, now=LATER) is None
    assert len(catalog.asked) == 1


@pytest.mark.parametrize(
    ("form", "answer", "error", "outcome", "reason"),
    [
        ({}, None, None, "not_covered", "names no zone"),
        ({"zone_id": "z-jn"}, {"zone": ZONE, "assessment": None}, None, "not_covered", "no "),
        # catalog answering an expired report (or another kind) covers nothing
        (
            {"zone_id": "z-jn"},
            {"zone": ZONE, "assessment": report(valid_to="2026-06-30")},
            None,
            "not_covered",
            "valid on 2026-10-12",
        ),
        (
            {"zone_id": "z-jn"},
            {"zone": ZONE, "assessment": report(kind="flood_impact")},
            None,
            "not_covered",
            "no environmental_impact",
        ),
        ({"zone_id": "z-x"}, {"zone": None, "assessment": None}, None, "not_covered", "z-x"),
        ({"zone_id": "z-x"}, None, errors.NotFound("no zone"), "not_covered", "z-x"),
        (
            {"zone_id": "z-jn"},
            None,
            errors.Unavailable("catalog did not answer"),
            "unavailable",
            "catalog",
        ),
    ],
)
def test_without_a_valid_report_a_person_checks(uow, form, answer, error, outcome, reason):
    publish(uow, EIA, DECIDE)
    application_id = submit_case(uow, form={**FORM, **form}).application_id
    event = started(uow, application_id, "evidence_step_started")
    assert evidence.decide_evidence_step(uow, event, Catalog(answer, error), now=LATER) == outcome
    case = view(uow, application_id)
    step = case.steps[0]
    assert step["evidence"]["outcome"] == outcome
    assert reason in step["evidence"]["reason"]
    assert step["covered_by"] is None
    assert (step["state"], step["department_code"], step["role"]) == ("active", OWN, "approver")
    worklist = use_cases.worklist(uow, APPROVER)
    assert worklist["items"][0].task["step"] == "eia"
    done = use_cases.act(uow, APPROVER, application_id, "approve", step="eia", comment="报告合格")
    assert [s["state"] for s in done.steps] == ["done", "active"]


@pytest.fixture
def materials_as_sent(monkeypatch):
    """Licence numbers among the materials are taken as sent (submission checks
    them against the licences; here the step's own lookup is what is tested)."""
    monkeypatch.setattr(
        use_cases.licences, "licence_materials", lambda uow, materials, *a, **k: materials
    )


def test_a_licence_held_covers_a_licence_step(uow, materials_as_sent):
    publish(uow, FOOD_LICENCE, DECIDE)
    materials = [*MATERIALS, {"name": "食品经营许可证", "licence_no": "L-1"}]
    application_id = submit_case(uow, materials=materials).application_id
    event = started(uow, application_id, "evidence_step_started")
    asked = []

    def held_licence(unit, licence_no, holder_ids, *, licence_type=None, on=None):
        asked.append((licence_no, holder_ids, licence_type, on))
        return {"licence_no": licence_no, "name": "食品经营许可证", "holder_id": holder_ids[0]}

    outcome = evidence.decide_evidence_step(uow, event, Catalog(), held_licence, now=LATER)
    assert outcome == "covered"
    assert asked == [("L-1", [APPLICANT["user_id"]], "JY", date(2026, 10, 12))]
    step = view(uow, application_id).steps[0]
    assert step["covered_by"] == {"kind": "licence", "id": "L-1", "title": "食品经营许可证"}


@pytest.mark.parametrize("materials", [MATERIALS, [{"name": "许可证", "licence_no": "L-9"}]])
def test_no_licence_held_goes_to_a_person(uow, materials, materials_as_sent):
    publish(uow, FOOD_LICENCE, DECIDE)
    application_id = submit_case(uow, materials=materials).application_id
    event = started(uow, application_id, "evidence_step_started")

    def nothing_held(unit, licence_no, holder_ids, *, licence_type=None, on=None):
        return None

    assert (
        evidence.decide_evidence_step(uow, event, Catalog(), nothing_held, now=LATER)
        == "not_covered"
    )
    assert view(uow, application_id).steps[0]["state"] == "active"


class Platform:
    """A payment platform that may be down; it remembers what it was asked."""

    def __init__(self):
        self.down = False
        self.orders: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        self.refunds: dict[str, dict] = {}
        self.cancelled: list[str] = []

    def _up(self):
        if self.down:
            raise errors.Unavailable("payment is down")

    def create_order(self, key, *, reference, amount_fen, description, expires_at):
        self._up()
        if key not in self.keys:
            order_id = f"o-{len(self.orders) + 1}"
            self.keys[key] = order_id
            self.orders[order_id] = {
                "order_id": order_id,
                "reference": reference,
                "amount_fen": amount_fen,
                "state": "pending",
                "pay_url": f"http://cashier/{order_id}",
                "expires_at": expires_at,
            }
        return dict(self.orders[self.keys[key]])

    def orders_of(self, reference):
        self._up()
        return [dict(o) for o in self.orders.values() if o["reference"] == reference]

    def cancel_order(self, order_id):
        self._up()
        order = self.orders[order_id]
        if order["state"] == "pending":
            order["state"] = "cancelled"
            self.cancelled.append(order_id)
        return dict(order)

    def refund(self, order_id, amount_fen, key, reason):
        self._up()
        self.refunds.setdefault(key, {"refund_id": f"rf-{order_id}", "amount_fen": amount_fen})
        return dict(self.refunds[key])

    def pay(self, order_id):
        self.orders[order_id]["state"] = "paid"
        return self.orders[order_id]


def no_facts(facts, case, today):
    raise AssertionError("no fact is needed")


def aged(years):
    def gather(facts, case, today):
        assert facts == {"applicant.age"}
        return {"applicant.age": years}

    return gather


def at_payment(uow, platform, gather=no_facts, fees=(FEE,), waiver=None, steps=(ACCEPT, DECIDE)):
    """A case decided and at its payment step, ordered by ``request_payment``."""
    publish(uow, *steps)
    application_id = submit_case(uow, fees=list(fees), fee_waiver=waiver).application_id
    use_cases.act(uow, CLERK, application_id, "accept", now=NOW)
    if view(uow, application_id).payment is None:
        use_cases.act(uow, APPROVER, application_id, "approve", now=NOW)
    event = started(uow, application_id, "payment_step_started")
    payments.on_payment_step_started(uow, event, platform, gather)
    return application_id


def test_an_order_is_made_paid_and_the_licence_issued(uow):
    platform = Platform()
    application_id = at_payment(uow, platform)
    case = view(uow, application_id)
    assert case.payment.state == "pending"
    assert (case.payment.order_id, case.payment.pay_url) == ("o-1", "http://cashier/o-1")
    assert {"action": "pay", "step": "payment"} in case.available_actions
    order = platform.orders["o-1"]
    assert (order["reference"], order["amount_fen"]) == (application_id, 1050)
    # The end of the last day to pay, in Jiangsu.
    assert order["expires_at"] == datetime(2026, 10, 14, 23, 59, 59, tzinfo=CHINA_TZ)
    requested = started(uow, application_id, "payment_requested")
    assert requested["payload"] == {
        "application_id": application_id,
        "order_id": "o-1",
        "amount_fen": 1050,
    }
    # A second attempt (the sweep) makes no second order.
    assert payments.request_payment(uow, application_id, platform, no_facts) is None

    answer = payments.record_payment(uow, "o-1", application_id, "paid", 1050, now=LATER)
    assert answer == {"status": "ok"}
    case = view(uow, application_id)
    assert (case.state, case.payment.state) == ("completed", "paid")
    assert case.licence_no
    assert payments.record_payment(uow, "o-1", application_id, "paid", 1050, now=LATER) == {
        "status": "repeated"
    }
    assert payments.record_payment(uow, "o-1", application_id, "refunded", 1050) == {
        "status": "ignored"
    }
    with pytest.raises(NotFound):
        payments.record_payment(uow, "o-1", "nobody", "paid", 1050)


def test_the_waiver_rule_skips_payment_for_those_it_covers(uow):
    platform = Platform()
    application_id = at_payment(uow, platform, gather=aged(72), waiver=SENIORS)
    case = view(uow, application_id)
    assert case.state == "completed"
    assert case.payment.state == "waived"
    assert case.payment.waiver == {"description": SENIORS["description"], "waived_fen": 1050}
    assert platform.orders == {}


def test_the_waiver_covers_only_waivable_fees_and_not_those_it_does_not_hold_for(uow):
    platform = Platform()
    application_id = at_payment(
        uow, platform, gather=aged(72), fees=(FEE, FIXED_FEE), waiver=SENIORS
    )
    case = view(uow, application_id)
    assert (case.payment.state, case.payment.amount_fen) == ("pending", 300)
    assert case.payment.waiver["waived_fen"] == 1050
    young = at_payment(
        uow, platform, gather=aged(35), waiver=SENIORS, steps=(ACCEPT, {**DECIDE, "id": "d2"})
    )
    assert view(uow, young).payment.amount_fen == 1050


def test_a_platform_down_leaves_the_order_to_the_sweep(uow):
    platform = Platform()
    platform.down = True
    application_id = at_payment(uow, platform)
    assert view(uow, application_id).payment.state == "ordering"
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 9, 29)) == {}
    platform.down = False
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 9, 29)) == {"ordered": 1}
    assert view(uow, application_id).payment.state == "pending"
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 9, 29)) == {}


def test_a_source_of_the_waivers_facts_down_leaves_it_to_the_sweep(uow):
    from services.workflow.service_layer.facts import FactsUnavailable

    def down(facts, case, today):
        raise FactsUnavailable("identity", "timeout")

    platform = Platform()
    application_id = at_payment(uow, platform, gather=down, waiver=SENIORS)
    assert view(uow, application_id).payment.state == "ordering"
    assert payments.sweep_payments(uow, platform, aged(80), date(2026, 9, 29)) == {"waived": 1}


def test_paid_then_denied_is_refunded_once_even_when_the_platform_was_down(uow):
    platform = Platform()
    fee_first = (ACCEPT, {"id": "fee", "kind": "payment"}, DECIDE)
    application_id = at_payment(uow, platform, steps=fee_first)
    platform.pay("o-1")
    payments.record_payment(uow, "o-1", application_id, "paid", 1050, now=NOW)
    platform.down = True
    use_cases.act(uow, APPROVER, application_id, "deny", comment="不予许可", now=LATER)
    settle = started(uow, application_id, "payment_settlement_due")
    assert payments.on_payment_settlement_due(uow, settle, platform) is None
    assert view(uow, application_id).payment.state == "refunding"
    platform.down = False
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 10, 12)) == {"refunded": 1}
    case = view(uow, application_id)
    assert (case.state, case.payment.state) == ("denied", "refunded")
    assert started(uow, application_id, "payment_refunded")["payload"] == {
        "application_id": application_id,
        "order_id": "o-1",
        "amount_fen": 1050,
    }
    assert payments.on_payment_settlement_due(uow, settle, platform) is None
    assert len(platform.refunds) == 1


def test_an_order_unpaid_by_its_last_day_ends_the_case_and_is_cancelled(uow):
    platform = Platform()
    application_id = at_payment(uow, platform)
    due_on = view(uow, application_id).payment.due_on
    assert payments.sweep_payments(uow, platform, no_facts, due_on) == {}
    assert payments.sweep_payments(uow, platform, no_facts, due_on + timedelta(days=1)) == {
        "expired": 1
    }
    case = view(uow, application_id)
    assert (case.state, case.payment.state) == ("withdrawn", "cancelled")
    assert platform.cancelled == ["o-1"]
    assert case.timeline[-1].action == "not_paid"


def test_an_order_paid_as_it_was_cancelled_is_refunded(uow):
    platform = Platform()
    application_id = at_payment(uow, platform)
    use_cases.withdraw(uow, APPLICANT, application_id, now=LATER)
    platform.pay("o-1")  # the citizen paid before the platform cancelled it
    settle = started(uow, application_id, "payment_settlement_due")
    assert payments.on_payment_settlement_due(uow, settle, platform) == "paid"
    assert view(uow, application_id).payment.state == "refunding"
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 10, 12)) == {"refunded": 1}
    assert view(uow, application_id).payment.state == "refunded"


def test_a_case_that_ended_while_ordering_cancels_what_was_made(uow):
    platform = Platform()
    platform.down = True
    application_id = at_payment(uow, platform)
    use_cases.withdraw(uow, APPLICANT, application_id, now=LATER)
    platform.down = False
    # The order was made after all (a request that timed out), under the key.
    platform.create_order(
        payments.order_key(application_id, "payment"),
        reference=application_id,
        amount_fen=1050,
        description="",
        expires_at=None,
    )
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 10, 12)) == {"cancelled": 1}
    assert platform.cancelled == ["o-1"]
    assert view(uow, application_id).payment.state == "cancelled"


def test_cases_with_payments_and_evidence_answer_as_documented(uow):
    from services.common.testing import assert_documented
    from services.workflow import contract

    from .test_contract import assert_exactly

    platform = Platform()
    pending = at_payment(uow, platform)
    waived = at_payment(
        uow, platform, gather=aged(75), waiver=SENIORS, steps=(ACCEPT, {**DECIDE, "id": "d2"})
    )
    publish(uow, EIA, DECIDE)
    covered = submit_case(uow, form={**FORM, "zone_id": "z-jn"}).application_id
    event = started(uow, covered, "evidence_step_started")
    evidence.decide_evidence_step(uow, event, Catalog({"zone": ZONE, "assessment": report()}))
    for application_id in (pending, waived, covered):
        answer = contract.Application().dump(view(uow, application_id))
        assert_exactly(contract.Application, answer)
    answer = contract.Application().dump(view(uow, pending))
    assert answer["payment"] == {
        "state": "pending",
        "amount_fen": 1050,
        "fees": [FEE],
        "waiver": None,
        "order_id": "o-1",
        "pay_url": "http://cashier/o-1",
        "due_on": "2026-10-14",
        "paid_at": None,
        "refunded_at": None,
    }
    assert answer["clock"]["stopped_for"] == "payment"
    assert {"action": "pay", "step": "payment"} in answer["available_actions"]
    shown = [step for step in contract.Application().dump(view(uow, covered))["steps"]]
    assert shown[0]["covered_by"]["id"] == "as-1"
    mine = {
        "evidence_step_started",
        "payment_step_started",
        "payment_requested",
        "payment_settlement_due",
        "payment_received",
        "payment_refunded",
    }
    sent = [notice for notice in outbox(uow) if notice["type"] in mine]
    assert {notice["type"] for notice in sent} >= {"evidence_step_started", "payment_requested"}
    for notice in sent:
        assert_documented(contract.EVENTS[notice["type"]], notice["payload"])


def test_a_waiver_rule_on_a_fact_nobody_gathers_charges_in_full(uow):
    from services.workflow.service_layer.facts import UnknownFact

    def unknown(facts, case, today):
        raise UnknownFact(facts)

    platform = Platform()
    application_id = at_payment(uow, platform, gather=unknown, waiver=SENIORS)
    case = view(uow, application_id)
    assert (case.payment.state, case.payment.amount_fen, case.payment.waiver) == (
        "pending",
        1050,
        None,
    )


def test_one_case_that_fails_does_not_hold_up_the_sweep(uow, monkeypatch):
    platform = Platform()
    platform.down = True
    first = at_payment(uow, platform)
    second = at_payment(uow, platform, steps=(ACCEPT, {**DECIDE, "id": "d2"}))
    platform.down = False
    real = payments.request_payment

    def broken_for_the_first(unit, application_id, *args, **kwargs):
        if application_id == first:
            raise RuntimeError("a bug")
        return real(unit, application_id, *args, **kwargs)

    monkeypatch.setattr(payments, "request_payment", broken_for_the_first)
    assert payments.sweep_payments(uow, platform, no_facts, date(2026, 9, 29)) == {"ordered": 1}
    assert view(uow, second).payment.state == "pending"
    assert view(uow, first).payment.state == "ordering"


def test_a_payment_step_of_a_free_item_passes_with_nothing_ordered(uow):
    platform = Platform()
    fee_first = (ACCEPT, {"id": "fee", "kind": "payment"}, DECIDE)
    application_id = at_payment(uow, platform, fees=(), steps=fee_first)
    case = view(uow, application_id)
    assert (case.payment.state, case.payment.amount_fen, case.payment.waiver) == ("waived", 0, None)
    assert [s["state"] for s in case.steps] == ["done", "done", "active"]
    assert case.clock.running
    assert platform.orders == {}
