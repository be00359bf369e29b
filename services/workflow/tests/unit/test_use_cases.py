"""Use cases on a SQLite unit of work: the journeys a case takes, end to end."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from services.common import errors
from services.common.testing import assert_documented, outbox
from services.workflow import contract
from services.workflow.adapters import orm
from services.workflow.bootstrap import load_demo
from services.workflow.domain.model import CHINA_TZ
from services.workflow.service_layer import use_cases

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
    assert approved.licence_no == "JS32010220261012000001"
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
    ]
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
    ]
    licences = use_cases.list_licences(uow, APPLICANT)
    assert [licence["licence_no"] for licence in licences["items"]] == [case.licence_no]
    verified = use_cases.verify_licence(uow, case.licence_no)
    assert verified["valid"] is True
    assert verified["item_name"] == "食品经营许可"
    assert verified["holder_masked"] == "u-ap***cant"
    assert use_cases.list_licences(uow, OTHER_CITIZEN) == {"items": []}


def test_licence_serials_count_per_region_and_day(uow):
    numbers = []
    for _ in range(3):
        application = submit(uow, delivery=ONLINE, joint_departments=[])
        use_cases.act(uow, CLERK, application.application_id, "accept")
        numbers.append(
            use_cases.act(
                uow, APPROVER, application.application_id, "approve", now=LATER
            ).licence_no
        )
    assert [number[-6:] for number in numbers] == ["000001", "000002", "000003"]


def test_enterprise_licence_holder_is_masked(uow):
    application = use_cases.submit_application(
        uow,
        item(joint_departments=[]),
        APPLICANT,
        FORM,
        MATERIALS,
        ONLINE,
        on_behalf_of={"kind": "person", "name": "王五", "id_number": "320102199001011234"},
        now=NOW,
    )
    use_cases.act(uow, CLERK, application.application_id, "accept")
    approved = use_cases.act(uow, APPROVER, application.application_id, "approve")
    verified = use_cases.verify_licence(uow, approved.licence_no)
    assert verified["holder_masked"] == "3201**********1234"
    shown = contract.Application().dump(
        use_cases.get_application(uow, APPLICANT, application.application_id)
    )
    assert shown["on_behalf_of"]["id_number"] == "3201**********1234"


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
    use_cases.act(uow, CLERK, own_case.application_id, "accept")

    assert use_cases.worklist(uow, CLERK)["total"] == 2
    cases = use_cases.worklist(uow, CLERK_A)["items"]
    assert [c.application_id for c in cases] == [joint_case.application_id]
    cases = use_cases.worklist(uow, CLERK, state="accepted")["items"]
    assert [c.application_id for c in cases] == [own_case.application_id]
    second = use_cases.worklist(uow, CLERK, page=2, page_size=1)
    assert (second["page"], second["page_size"], second["total"]) == (2, 1, 2)
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
    rejected = outbox(uow)[-1]
    assert rejected["type"] == "application_rejected"
    assert rejected["payload"] == {
        "application_id": application.application_id,
        "applicant_id": "u-applicant",
        "comment": "材料不属于本部门受理范围",
    }


def test_supplement_and_withdraw(uow):
    application = submit(uow, delivery=ONLINE)
    use_cases.act(uow, CLERK, application.application_id, "accept", now=NOW)
    use_cases.act(uow, CLERK, application.application_id, "request_supplement", "缺少卫生许可证")
    with pytest.raises(errors.Invalid) as raised:
        use_cases.supplement(uow, APPLICANT, application.application_id, [])
    assert raised.value.fields == {"materials": "at least one material is required"}
    supplemented = use_cases.supplement(
        uow, APPLICANT, application.application_id, [{"name": "卫生许可证"}]
    )
    assert supplemented.state == "accepted"
    assert len(supplemented.materials) == 2
    use_cases.withdraw(uow, APPLICANT, application.application_id)
    with pytest.raises(errors.Conflict):
        use_cases.withdraw(uow, APPLICANT, application.application_id)
    assert outbox_types(uow)[-3:] == [
        "supplement_requested",
        "application_accepted",
        "application_withdrawn",
    ]


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


def test_calendar_comes_from_the_table_and_admins_edit_it(uow):
    # 33 days off and 6 make-up workdays.
    assert load_demo(uow) == {"calendar_days": 39}
    assert load_demo(uow) == {"calendar_days": 0}

    # Thursday 8 October becomes a closure: the due date moves by a day.
    with pytest.raises(errors.Forbidden):
        use_cases.set_calendar_day(uow, CLERK, date(2026, 10, 8), "holiday")
    assert use_cases.set_calendar_day(uow, DEPT_ADMIN, date(2026, 10, 8), "holiday") == {
        "day": date(2026, 10, 8),
        "kind": "holiday",
    }
    assert submit(uow).due_date == date(2026, 10, 13)
    use_cases.set_calendar_day(uow, OPERATOR, date(2026, 10, 8), "workday")
    assert submit(uow).due_date == date(2026, 10, 12)
    # The admin's edit survives another bootstrap.
    assert load_demo(uow) == {"calendar_days": 0}


def test_first_calendar_edit_keeps_the_shipped_holidays(uow):
    use_cases.set_calendar_day(uow, DEPT_ADMIN, date(2026, 12, 31), "holiday")
    with uow:
        days = uow.calendar.days()
    assert days[date(2026, 10, 1)] == "holiday"
    assert days[date(2026, 12, 31)] == "holiday"


def test_due_dates_are_jiangsu_days():
    # 23:30 UTC on 30 September is already 1 October in Nanjing.
    assert datetime(2026, 9, 30, 23, 30, tzinfo=UTC).astimezone(CHINA_TZ).day == 1
