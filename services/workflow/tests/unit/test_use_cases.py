"""Use cases on a SQLite unit of work: the journeys a case takes, end to end."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from services.common import errors
from services.common.masking import mask
from services.common.testing import assert_documented, envelope, outbox
from services.workflow import contract
from services.workflow.adapters import orm
from services.workflow.bootstrap import load_demo
from services.workflow.domain.model import CHINA_TZ
from services.workflow.domain.process import ProcessDefinition
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.facts import FactsUnavailable

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    EXPRESS,
    FORM,
    JOINT_A,
    MATERIALS,
    ONLINE,
    OPERATOR,
    OTHER_CITIZEN,
    OUTSIDE_APPROVER,
    OUTSIDE_CLERK,
    OWN,
    courier_event,
    item,
)

# 10:00 in Nanjing, Tuesday 29 September 2026, two days before National Day.
NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)


APPLICATIONS_TOTAL = "tongban_workflow_applications_total"
OVERDUE_TOTAL = "tongban_workflow_cases_overdue_total"


def outbox_types(uow):
    return [sent["type"] for sent in outbox(uow)]


def submit(uow, delivery=EXPRESS, **changes):
    return use_cases.submit_application(
        uow, item(**changes), APPLICANT, FORM, MATERIALS, delivery, now=NOW
    )


def counter(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_express_journey_from_submission_to_completion(uow):
    submitted_before = counter(APPLICATIONS_TOTAL, outcome="submitted")
    completed_before = counter(APPLICATIONS_TOTAL, outcome="completed")

    application = submit(uow)
    assert application.state == "submitted"
    # Five working days after 29 September, with National Day in between.
    assert application.due_date == date(2026, 10, 12)

    received = courier_event("materials_received", application.application_id)
    assert use_cases.on_materials_received(uow, received, now=NOW)
    assert use_cases.get_application(uow, CLERK, application.application_id).state == "accepted"

    use_cases.act(uow, APPROVER_A, application.application_id, "approve", "消防合格", now=LATER)
    assert "licence_issued" not in outbox_types(uow)
    approved = use_cases.act(uow, APPROVER, application.application_id, "approve", now=LATER)
    assert approved.state == "approved"
    assert approved.licence_no.startswith("1.2.156.3005.2.")
    issued = [e for e in outbox(uow) if e["type"] == "licence_issued"]
    assert len(issued) == 1
    assert issued[0]["source"] == "workflow"
    assert issued[0]["payload"]["delivery"]["mode"] == "express"
    assert issued[0]["payload"]["delivery"]["address"]["phone"] == "13800138000"
    assert issued[0]["payload"]["window"]["name"] == "玄武区政务服务中心"

    delivered = courier_event("result_delivered", application.application_id)
    assert use_cases.on_result_delivered(uow, delivered, now=LATER)

    assert outbox_types(uow) == [
        "application_submitted",
        "application_accepted",
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    # Decided on its due date, the fifth working day: on time.
    assert outbox(uow)[-1]["payload"] == {
        "application_id": application.application_id,
        "applicant_id": "u-applicant",
        "item_id": "item-food-licence",
        "item_name": "食品经营许可",
        "department_code": OWN,
        "handled_by": OWN,
        "region_code": "320102",
        "store_id": "store-xw-scj",
        "mode": "express",
        "outcome": "completed",
        "submitted_at": "2026-09-29T02:00:00Z",
        "ended_at": "2026-10-12T02:00:00Z",
        "due_date": "2026-10-12",
        "on_time": True,
        "working_days": 5,
        "principal_id": None,
    }
    case = use_cases.get_application(uow, APPLICANT, application.application_id)
    assert case.state == "completed"
    assert [entry.action for entry in case.timeline] == [
        "submit",
        "materials_received",
        "approve",
        "approve",
        "issue_licence",
        "complete",
    ]
    assert case.reviews == {OWN: "approved", JOINT_A: "approved"}
    assert counter(APPLICATIONS_TOTAL, outcome="submitted") == submitted_before + 1
    assert counter(APPLICATIONS_TOTAL, outcome="completed") == completed_before + 1


def test_every_emitted_payload_matches_its_schema(uow):
    application = submit(uow)
    use_cases.on_materials_received(
        uow, courier_event("materials_received", application.application_id)
    )
    use_cases.act(uow, APPROVER_A, application.application_id, "approve")
    use_cases.act(uow, APPROVER, application.application_id, "approve")
    use_cases.on_result_delivered(
        uow, courier_event("result_delivered", application.application_id)
    )
    other = submit(uow, delivery=ONLINE)
    use_cases.withdraw(uow, APPLICANT, other.application_id)
    for emitted in outbox(uow):
        assert_documented(contract.EVENTS[emitted["type"]], emitted["payload"])


def test_online_case_completes_on_the_last_approval(uow):
    application = submit(uow, delivery=ONLINE, joint_departments=[])
    use_cases.act(uow, CLERK, application.application_id, "accept", now=NOW)
    use_cases.act(uow, APPROVER, application.application_id, "approve", now=LATER)

    case = use_cases.get_application(uow, APPLICANT, application.application_id)
    assert case.state == "completed"
    assert outbox_types(uow) == [
        "application_submitted",
        "application_accepted",
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    licences = use_cases.list_licences(uow, APPLICANT)
    assert [licence["licence_no"] for licence in licences["items"]] == [case.licence_no]
    verified = use_cases.verify_licence(uow, case.licence_no)
    assert verified["valid"] is True
    assert verified["item_name"] == "食品经营许可"
    assert verified["holder_masked"] == "u-ap***cant"
    assert use_cases.list_licences(uow, OTHER_CITIZEN) == {"items": []}


def test_licence_serials_are_random_and_numbers_unique(uow):
    numbers = []
    for _ in range(3):
        application = submit(uow, delivery=ONLINE, joint_departments=[])
        use_cases.act(uow, CLERK, application.application_id, "accept")
        numbers.append(
            use_cases.act(
                uow, APPROVER, application.application_id, "approve", now=LATER
            ).licence_no
        )
    serials = [number.split(".")[7] for number in numbers]
    assert len(set(numbers)) == 3 and len(set(serials)) == 3
    assert all(number.split(".")[8] == "001" for number in numbers)


def test_a_principals_licence_holder_is_masked(uow, identity):
    enterprise = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
    identity.allow(APPLICANT["user_id"], enterprise)
    application = use_cases.submit_application(
        uow,
        item(joint_departments=[]),
        APPLICANT,
        FORM,
        MATERIALS,
        ONLINE,
        on_behalf_of=enterprise,
        now=NOW,
    )
    use_cases.act(uow, CLERK, application.application_id, "accept")
    approved = use_cases.act(uow, APPROVER, application.application_id, "approve")
    assert approved.licence.holder_id == "91320102MA1XYR1234"
    verified = use_cases.verify_licence(uow, approved.licence_no)
    assert verified["holder_masked"] == mask("91320102MA1XYR1234")
    shown = contract.Application().dump(
        use_cases.get_application(uow, APPLICANT, application.application_id)
    )
    assert shown["on_behalf_of"]["uscc"] == "91320102MA1XYR1234"


def test_unknown_licence_is_not_found(uow):
    with pytest.raises(errors.NotFound):
        use_cases.verify_licence(uow, "JS32010220261012999999")


def test_cases_are_visible_only_to_their_applicant_and_departments(uow):
    application = submit(uow)
    application_id = application.application_id
    for actor in (APPLICANT, CLERK, CLERK_A, OPERATOR):
        assert (
            use_cases.get_application(uow, actor, application_id).application_id == application_id
        )
    for actor in (OTHER_CITIZEN, OUTSIDE_CLERK, OUTSIDE_APPROVER):
        with pytest.raises(errors.NotFound):
            use_cases.get_application(uow, actor, application_id)
    with pytest.raises(errors.NotFound):
        use_cases.withdraw(uow, OTHER_CITIZEN, application_id)
    with pytest.raises(errors.NotFound):
        use_cases.get_application(uow, APPLICANT, "no-such-case")

    mine = use_cases.list_applications(uow, APPLICANT)
    assert mine["total"] == 1
    assert [a.application_id for a in mine["items"]] == [application_id]
    assert use_cases.list_applications(uow, OTHER_CITIZEN) == {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }


def test_worklist_holds_own_and_joint_cases_filtered_by_state(uow):
    joint_case = submit(uow)
    own_case = submit(uow, joint_departments=[])
    use_cases.act(uow, CLERK, own_case.application_id, "accept", now=NOW)

    assert use_cases.worklist(uow, CLERK)["total"] == 2
    # A joint department has work once the joint step starts, when the window
    # has accepted the case.
    assert use_cases.worklist(uow, CLERK_A)["total"] == 0
    use_cases.act(uow, CLERK, joint_case.application_id, "accept", now=NOW)
    cases = use_cases.worklist(uow, CLERK_A, today=NOW.date())["items"]
    assert [c.application_id for c in cases] == [joint_case.application_id]
    (shown,) = cases
    # Four working days from Tue 29 Sep: 30 Sep, 8 and 9 Oct, Sat 10 Oct (make-up).
    assert shown.task == {
        "step": "joint",
        "role": "approver",
        "due_date": date(2026, 10, 10),
        "signal": "green",
    }
    # A decided branch is work done: the case stays in the list without a task.
    use_cases.act(uow, APPROVER_A, joint_case.application_id, "approve", now=NOW)
    (shown,) = use_cases.worklist(uow, CLERK_A, today=NOW.date())["items"]
    assert shown.task is None
    use_cases.act(uow, CLERK, submit(uow).application_id, "reject", "不属于本部门受理范围")
    cases = use_cases.worklist(uow, CLERK, state="accepted")["items"]
    assert {c.application_id for c in cases} == {
        own_case.application_id,
        joint_case.application_id,
    }
    assert use_cases.worklist(uow, CLERK, state="rejected")["total"] == 1
    second = use_cases.worklist(uow, CLERK, page=2, page_size=1)
    assert (second["page"], second["page_size"], second["total"]) == (2, 1, 3)
    assert len(second["items"]) == 1
    assert use_cases.worklist(uow, OUTSIDE_CLERK) == {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    with pytest.raises(errors.Forbidden):
        use_cases.worklist(uow, APPLICANT)


def test_domain_errors_become_shared_errors(uow):
    application = submit(uow)
    with pytest.raises(errors.Forbidden):
        use_cases.act(uow, CLERK_A, application.application_id, "accept")
    with pytest.raises(errors.Conflict):
        use_cases.act(uow, APPROVER, application.application_id, "approve")
    with pytest.raises(errors.Invalid) as raised:
        use_cases.act(uow, CLERK, application.application_id, "reject", "")
    assert raised.value.fields == {"comment": "a rejection must give the reason"}
    with pytest.raises(errors.Invalid) as raised:
        use_cases.submit_application(
            uow, item(), APPLICANT, FORM, MATERIALS, {"mode": "express"}, now=NOW
        )
    assert raised.value.fields == {"delivery.address": "is required for express delivery"}
    with pytest.raises(errors.Forbidden):
        use_cases.submit_application(uow, item(), CLERK, FORM, MATERIALS, ONLINE)
    # Nothing failed half-way: only the first submission is stored.
    assert outbox_types(uow) == ["application_submitted"]


def test_rejection_is_emitted(uow):
    application = submit(uow)
    use_cases.act(uow, CLERK, application.application_id, "reject", "材料不属于本部门受理范围")
    rejected, ended = outbox(uow)[-2:]
    assert ended["type"] == "application_ended"
    assert (ended["payload"]["outcome"], ended["payload"]["handled_by"]) == ("rejected", OWN)
    assert rejected["type"] == "application_rejected"
    assert rejected["payload"] == {
        "application_id": application.application_id,
        "applicant_id": "u-applicant",
        "comment": "材料不属于本部门受理范围",
    }


def test_supplement_and_withdraw(uow):
    application = submit(uow, delivery=ONLINE)
    use_cases.act(
        uow,
        CLERK,
        application.application_id,
        "request_supplement",
        "缺少卫生许可证",
        missing_materials=["卫生许可证"],
        now=NOW,
    )
    waiting = use_cases.get_application(uow, APPLICANT, application.application_id)
    assert (waiting.state, waiting.missing_materials) == ("supplement_requested", ["卫生许可证"])
    assert waiting.available_actions == [
        {"action": "withdraw", "step": None},
        {"action": "supplement", "step": None},
    ]
    with pytest.raises(errors.Invalid) as raised:
        use_cases.supplement(uow, APPLICANT, application.application_id, [])
    assert raised.value.fields == {"materials": "at least one material is required"}
    supplemented = use_cases.supplement(
        uow, APPLICANT, application.application_id, [{"name": "卫生许可证"}], now=LATER
    )
    assert supplemented.state == "submitted"
    assert len(supplemented.materials) == 2
    # The window takes it from here.
    clerk_view = use_cases.get_application(uow, CLERK, application.application_id)
    assert {"action": "accept", "step": "accept"} in clerk_view.available_actions
    use_cases.withdraw(uow, APPLICANT, application.application_id)
    with pytest.raises(errors.Conflict):
        use_cases.withdraw(uow, APPLICANT, application.application_id)
    assert outbox_types(uow)[-4:] == [
        "supplement_requested",
        "application_supplemented",
        "application_withdrawn",
        "application_ended",
    ]


def test_cases_not_supplemented_in_time_are_closed(uow):
    waiting = submit(uow, delivery=ONLINE)
    use_cases.act(uow, CLERK, waiting.application_id, "request_supplement", "缺少", now=NOW)
    supplied = submit(uow, delivery=ONLINE)
    use_cases.act(uow, CLERK, supplied.application_id, "request_supplement", "缺少", now=NOW)
    use_cases.supplement(
        uow, APPLICANT, supplied.application_id, [{"name": "卫生许可证"}], now=LATER
    )
    # Requested on 29 September: thirty days later is the last day to supply.
    assert use_cases.close_unsupplemented_cases(uow, date(2026, 10, 29)) == 0
    assert use_cases.close_unsupplemented_cases(uow, date(2026, 10, 30), now=LATER) == 1
    assert use_cases.close_unsupplemented_cases(uow, date(2026, 10, 31)) == 0
    closed = use_cases.get_application(uow, APPLICANT, waiting.application_id)
    assert (closed.state, closed.available_actions) == ("not_supplemented", [])
    assert use_cases.get_application(uow, APPLICANT, supplied.application_id).state == "submitted"
    not_supplemented, ended = outbox(uow)[-2:]
    assert not_supplemented["payload"] == {
        "application_id": waiting.application_id,
        "applicant_id": APPLICANT["user_id"],
        "supplement_due": "2026-10-29",
    }
    assert ended["type"] == "application_ended"
    assert (ended["payload"]["application_id"], ended["payload"]["outcome"]) == (
        waiting.application_id,
        "not_supplemented",
    )


def test_item_handled_by_another_instance_is_refused(uow):
    with pytest.raises(errors.Conflict) as raised:
        submit(uow, handled_by="workflow-ks-xzsp")
    assert raised.value.fields == {"handled_by": "workflow-ks-xzsp"}
    department_case = use_cases.submit_application(
        uow,
        item(handled_by="workflow-ks-xzsp"),
        APPLICANT,
        FORM,
        MATERIALS,
        ONLINE,
        instance="workflow-ks-xzsp",
    )
    assert department_case.state == "submitted"
    with pytest.raises(errors.Conflict):
        submit(uow, status="retired")


def test_courier_events_take_effect_once(uow):
    application = submit(uow)
    received = courier_event("materials_received", application.application_id)
    assert use_cases.on_materials_received(uow, received) is True
    assert use_cases.on_materials_received(uow, received) is False
    # A second notice (new event id) for the same parcel changes nothing either.
    again = courier_event("materials_received", application.application_id)
    assert use_cases.on_materials_received(uow, again) is False
    case = use_cases.get_application(uow, APPLICANT, application.application_id)
    assert [entry.action for entry in case.timeline].count("materials_received") == 1
    assert outbox_types(uow).count("application_accepted") == 1


def test_courier_event_for_an_unknown_or_unfit_case_is_handled_not_retried(uow):
    stray = courier_event("materials_received", "no-such-case")
    assert use_cases.on_materials_received(uow, stray) is False
    assert use_cases.on_materials_received(uow, stray) is False
    online = submit(uow, delivery=ONLINE)
    assert not use_cases.on_result_delivered(
        uow, courier_event("result_delivered", online.application_id)
    )
    table = orm.metadata.tables["handled_events"]
    with uow:
        handled = uow.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    assert handled == 2


def test_overdue_cases_are_reported_once(uow):
    overdue_before = counter(OVERDUE_TOTAL)
    late = submit(uow)  # due Monday 12 October
    closed = submit(uow, delivery=ONLINE)
    use_cases.withdraw(uow, APPLICANT, closed.application_id)

    assert use_cases.mark_overdue_cases(uow, date(2026, 10, 12)) == 0
    assert use_cases.mark_overdue_cases(uow, date(2026, 10, 13)) == 1
    assert use_cases.mark_overdue_cases(uow, date(2026, 10, 14)) == 0
    overdue = [e for e in outbox(uow) if e["type"] == "case_overdue"]
    assert [e["payload"] for e in overdue] == [
        {"application_id": late.application_id, "due_date": "2026-10-12"}
    ]
    assert use_cases.get_application(uow, APPLICANT, late.application_id).overdue_reported
    assert counter(OVERDUE_TOTAL) == overdue_before + 1


def test_calendar_comes_from_the_table_and_operators_load_years(uow):
    # The shipped years and the demo processes, stored once.
    first = load_demo(uow)
    assert first["calendar_years"] == [2026] and first["processes"] > 0
    assert load_demo(uow) == {"calendar_years": [], "processes": 0}
    shipped = use_cases.get_calendar_year(uow, 2026)
    assert len(shipped["holidays"]) == 33 and len(shipped["workdays"]) == 6
    assert shipped["updated_by"] is None

    # Thursday 8 October becomes a closure: the due date moves by a day.
    with pytest.raises(errors.Forbidden):
        use_cases.put_calendar_year(uow, DEPT_ADMIN, 2026, [date(2026, 10, 8)], [])
    holidays = [*shipped["holidays"], date(2026, 10, 8)]
    loaded = use_cases.put_calendar_year(
        uow, OPERATOR, 2026, holidays, shipped["workdays"], "本省补充通知"
    )
    assert date(2026, 10, 8) in loaded["holidays"]
    assert (loaded["source"], loaded["updated_by"]) == ("本省补充通知", OPERATOR["user_id"])
    assert submit(uow).due_date == date(2026, 10, 13)
    use_cases.put_calendar_year(uow, OPERATOR, 2026, shipped["holidays"], shipped["workdays"])
    assert submit(uow).due_date == date(2026, 10, 12)
    # The operator's year survives another bootstrap.
    operators = use_cases.get_calendar_year(uow, 2026)
    assert operators["updated_by"] == OPERATOR["user_id"]
    load_demo(uow)
    assert use_cases.get_calendar_year(uow, 2026) == operators


def test_a_loaded_year_is_announced_with_its_days_in_order(uow):
    use_cases.put_calendar_year(
        uow,
        OPERATOR,
        2027,
        [date(2027, 2, 6), date(2027, 1, 1), date(2027, 2, 5)],
        [date(2027, 2, 14), date(2027, 1, 31)],
        "国务院办公厅关于2027年部分节假日安排的通知",
    )
    (loaded,) = [sent for sent in outbox(uow) if sent["type"] == "calendar_loaded"]
    assert loaded["payload"] == {
        "year": 2027,
        "holidays": ["2027-01-01", "2027-02-05", "2027-02-06"],
        "workdays": ["2027-01-31", "2027-02-14"],
    }
    # A refused year is not announced.
    with pytest.raises(errors.Invalid):
        use_cases.put_calendar_year(uow, OPERATOR, 2027, [date(2028, 1, 1)], [])
    assert outbox_types(uow) == ["calendar_loaded"]


@pytest.mark.parametrize(
    ("holidays", "workdays", "field"),
    [
        ([date(2027, 1, 1)], [], "holidays"),
        ([], [date(2027, 1, 2)], "workdays"),
        ([date(2026, 10, 10)], [date(2026, 10, 10)], "workdays"),
        ([], [date(2026, 10, 12)], "workdays"),  # a Monday
    ],
)
def test_a_year_holds_its_own_days_and_weekend_make_up_days(uow, holidays, workdays, field):
    with pytest.raises(errors.Invalid) as raised:
        use_cases.put_calendar_year(uow, OPERATOR, 2026, holidays, workdays)
    assert field in raised.value.fields
    # Nothing was stored: 2026 is still the shipped schedule.
    assert use_cases.get_calendar_year(uow, 2026)["updated_by"] is None


def test_a_year_neither_stored_nor_shipped_is_not_found_and_warned_about(uow):
    with pytest.raises(errors.NotFound, match="2027"):
        use_cases.get_calendar_year(uow, 2027)
    # From October the next year's calendar is due.
    assert use_cases.calendar_warnings(uow, date(2026, 9, 30)) == {}
    assert use_cases.calendar_warnings(uow, date(2026, 10, 1)) == {
        "calendar": "warning: no working calendar loaded for 2027"
    }
    # A case due in 2027 counts its days there on weekdays only.
    late_in_the_year = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
    provisional = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=late_in_the_year
    )
    assert provisional.calendar_provisional
    assert provisional.due_date == date(2027, 1, 4)
    assert use_cases.calendar_warnings(uow, date(2026, 12, 28)) == {
        "calendar": "warning: no working calendar loaded for 2027;"
        " 1 open cases have provisional due dates"
    }
    use_cases.put_calendar_year(uow, OPERATOR, 2027, [date(2027, 1, 1)], [])
    assert use_cases.get_calendar_year(uow, 2027)["holidays"] == [date(2027, 1, 1)]
    # Loaded now: a case submitted from now on is counted on it, and sure.
    counted = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=late_in_the_year
    )
    assert not counted.calendar_provisional
    assert counted.due_date == date(2027, 1, 5)
    # The earlier case keeps its due date, still marked provisional.
    assert use_cases.calendar_warnings(uow, date(2026, 12, 28)) == {
        "calendar": "warning: 1 open cases have provisional due dates"
    }


def test_due_dates_are_jiangsu_days():
    # 23:30 UTC on 30 September is already 1 October in Nanjing.
    assert datetime(2026, 9, 30, 23, 30, tzinfo=UTC).astimezone(CHINA_TZ).day == 1


# ------------------------------------------------------------ instant decisions

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
        }
    ]
}


def instant_case(uow):
    """A case of an item decided by an auto step; its auto_step_started event."""
    with uow:
        if uow.processes.current("item-food-licence") is None:
            uow.processes.add("item-food-licence", ProcessDefinition.parse(INSTANT), None)
            uow.commit()
    application = submit(uow, delivery=ONLINE, joint_departments=[])
    (started,) = [
        sent
        for sent in outbox(uow)
        if sent["type"] == "auto_step_started"
        and sent["payload"]["application_id"] == application.application_id
    ]
    assert started["payload"] == {
        "application_id": application.application_id,
        "step_id": "eligibility",
    }
    return application.application_id, started


def test_an_auto_step_is_decided_by_its_rules_once(uow):
    application_id, started = instant_case(uow)
    asked = []

    def gather(facts, case, today):
        asked.append((facts, case.application_id, today))
        return {"applicant.level": 3, "applicant.age": 66}

    assert use_cases.decide_auto_step(uow, started, gather, now=LATER) == "approved"
    assert asked == [({"applicant.level", "applicant.age"}, application_id, date(2026, 10, 12))]
    case = use_cases.get_application(uow, APPLICANT, application_id)
    assert (case.state, case.steps[0]["auto"]) == (
        "completed",
        {"outcome": "approved", "failures": []},
    )
    assert outbox_types(uow)[-5:] == [
        "auto_step_started",
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    # The same event again, or another about the decided step: nothing to do.
    assert use_cases.decide_auto_step(uow, started, gather, now=LATER) is None
    again = {**started, "id": "another-event-id"}
    assert use_cases.decide_auto_step(uow, again, gather, now=LATER) is None
    assert len(asked) == 1


def test_an_auto_step_whose_rules_fail_denies_the_case_naming_them(uow):
    application_id, started = instant_case(uow)
    outcome = use_cases.decide_auto_step(
        uow, started, lambda facts, case, today: {"applicant.level": 1, "applicant.age": 66}
    )
    assert outcome == "denied"
    denied, ended = outbox(uow)[-2:]
    assert (ended["type"], ended["payload"]["outcome"]) == ("application_ended", "denied")
    assert denied["type"] == "application_denied"
    assert denied["payload"]["comment"] == "不符合条件: applicant.level ge 2 (is 1)"
    case = use_cases.get_application(uow, APPLICANT, application_id)
    assert case.steps[0]["auto"]["failures"] == ["applicant.level ge 2 (is 1)"]


def test_an_auto_step_goes_to_a_person_when_a_source_cannot_answer(uow):
    application_id, started = instant_case(uow)

    def unavailable(facts, case, today):
        raise FactsUnavailable("housing", "the register timed out")

    assert use_cases.decide_auto_step(uow, started, unavailable, now=NOW) == "handed_over"
    case = use_cases.get_application(uow, APPROVER, application_id, today=NOW.date())
    assert case.steps[0]["auto"] == {
        "outcome": "unavailable",
        "source": "housing",
        "failures": [],
    }
    assert {"action": "approve", "step": "eligibility"} in case.available_actions
    (shown,) = use_cases.worklist(uow, APPROVER, today=NOW.date())["items"]
    assert shown.task["step"] == "eligibility" and shown.task["due_date"] == date(2026, 9, 30)
    done = use_cases.act(uow, APPROVER, application_id, "approve", "人工核验", now=LATER)
    assert done.state == "completed"


def test_a_rule_failing_on_a_fact_without_a_value_goes_to_a_person(uow):
    """An agent's principal has no real-name level here: refusing on it would be
    a guess, so a person decides; a failure on known values still denies."""
    application_id, started = instant_case(uow)
    outcome = use_cases.decide_auto_step(
        uow, started, lambda facts, case, today: {"applicant.level": None, "applicant.age": 70}
    )
    assert outcome == "handed_over"
    case = use_cases.get_application(uow, APPROVER, application_id, today=NOW.date())
    assert case.state == "submitted"
    assert case.steps[0]["auto"] == {
        "outcome": "unavailable",
        "source": "facts",
        "failures": [],
    }
    assert case.timeline[-1].comment == "facts: no value for applicant.level"
    assert {"action": "approve", "step": "eligibility"} in case.available_actions


def test_an_auto_step_of_an_unknown_case_is_left_alone(uow):
    stray = envelope("workflow", "auto_step_started", {"application_id": "nope", "step_id": "x"})

    def gather(facts, case, today):
        raise AssertionError("no facts are fetched for a case that is not here")

    assert use_cases.decide_auto_step(uow, stray, gather) is None
