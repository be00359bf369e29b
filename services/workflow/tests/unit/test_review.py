"""Joint review (the default process: the window accepts, then the item's
department and every joint department approve), licence issue and completion."""

from datetime import UTC, date, datetime

import pytest

from services.common.instances import default_issuer_uscc
from services.workflow.domain.events import (
    ApplicationApproved,
    ApplicationCompleted,
    ApplicationDenied,
    LicenceIssued,
)
from services.workflow.domain.exceptions import Forbidden, InvalidTransition, ValidationFailed
from services.workflow.domain.licences import (
    LicenceType,
    canonical_json,
    format_number,
    parse_number,
)
from services.workflow.domain.model import Decision, Licence, LicenceNumbers, State

from .conftest import (
    ADDRESS,
    APPLICANT,
    APPROVER,
    APPROVER_A,
    APPROVER_B,
    CAL,
    CLERK,
    CLERK_A,
    JOINT_A,
    JOINT_B,
    LATER,
    NOW,
    OPERATOR,
    OUTSIDE_APPROVER,
    OWN,
    act,
    ended,
    staff,
    submit,
)


def accepted(mode="online", joint=(JOINT_A, JOINT_B), **kwargs):
    app = submit(mode, joint=joint, **kwargs)
    act(app, CLERK, "accept", now=NOW)
    app.events.clear()
    return app


def test_every_reviewing_department_must_approve(numbers):
    app = accepted()
    act(app, APPROVER_A, "approve", "消防合格", numbers=numbers, now=LATER)
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    assert app.state == State.ACCEPTED
    assert app.reviews == {OWN: "approved", JOINT_A: "approved", JOINT_B: "pending"}
    assert app.events == []
    assert app.licence_no is None
    assert [(e.state, e.action, e.actor_id) for e in app.timeline[-2:]] == [
        ("accepted", "approve", "u-approver-a"),
        ("accepted", "approve", "u-approver"),
    ]

    act(app, APPROVER_B, "approve", numbers=numbers, now=LATER)
    assert app.state == State.COMPLETED
    assert app.reviews == {code: Decision.APPROVED for code in (OWN, JOINT_A, JOINT_B)}
    assert [e.type for e in app.events] == [
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    assert [(e.state, e.action, e.actor_role) for e in app.timeline[-3:]] == [
        ("approved", "approve", "approver"),
        ("approved", "issue_licence", "system"),
        ("completed", "complete", "system"),
    ]


@pytest.mark.parametrize("denier", [APPROVER, APPROVER_A, APPROVER_B])
def test_one_denial_denies_the_case(numbers, denier):
    app = accepted()
    for approver in (APPROVER, APPROVER_A, APPROVER_B):
        if approver is not denier:
            act(app, approver, "approve", numbers=numbers, now=LATER)
            break
    act(app, denier, "deny", "选址不符合规划", now=LATER)
    assert app.state == State.DENIED
    assert app.reviews[denier["department_code"]] == Decision.DENIED
    # The applicant learns which department denied, and why.
    named = f"{denier['department_code']}: 选址不符合规划"
    assert app.events == [
        ApplicationDenied(
            application_id=app.application_id,
            applicant_id=APPLICANT["user_id"],
            comment=named,
        ),
        # The denying department handled it, whether the item's or a joint one.
        ended(
            app,
            "denied",
            at=LATER,
            on_time=True,
            working_days=2,
            handled_by=denier["department_code"],
        ),
    ]
    entry = app.timeline[-1]
    assert (entry.state, entry.action, entry.actor_id, entry.comment, entry.step) == (
        "denied",
        "deny",
        denier["user_id"],
        named,
        "joint",
    )
    assert str(app.steps[1].state) == "denied"
    assert app.licence_no is None
    # The case is closed: the remaining departments cannot decide any more.
    remaining = [
        a
        for a in (APPROVER, APPROVER_A, APPROVER_B)
        if app.reviews[a["department_code"]] == "pending"
    ]
    for approver in remaining:
        with pytest.raises(InvalidTransition):
            act(app, approver, "approve", numbers=numbers, now=LATER)


def test_a_department_decides_once(numbers):
    app = accepted()
    act(app, APPROVER_A, "approve", numbers=numbers, now=LATER)
    with pytest.raises(InvalidTransition, match=JOINT_A):
        act(app, APPROVER_A, "approve", numbers=numbers, now=LATER)
    with pytest.raises(InvalidTransition):
        act(app, staff("u-second", JOINT_A, "approver"), "deny", "改主意", now=LATER)


@pytest.mark.parametrize(
    "actor",
    [CLERK, CLERK_A, OUTSIDE_APPROVER, OPERATOR, APPLICANT, staff("u", JOINT_A, "dept_admin")],
    ids=["own clerk", "joint clerk", "outside approver", "operator", "applicant", "joint admin"],
)
@pytest.mark.parametrize("action", ["approve", "deny"])
def test_review_needs_an_approver_of_a_reviewing_department(numbers, actor, action):
    app = accepted()
    with pytest.raises(Forbidden):
        act(app, actor, action, "理由", numbers=numbers, now=LATER)
    assert set(app.reviews.values()) == {"pending"}


@pytest.mark.parametrize("comment", ["", " ", None])
def test_a_denial_needs_a_reason(comment):
    app = accepted()
    with pytest.raises(ValidationFailed) as caught:
        act(app, APPROVER, "deny", comment, now=LATER)
    assert set(caught.value.fields) == {"comment"}
    assert app.state == State.ACCEPTED
    assert app.reviews[OWN] == "pending"


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_review_needs_an_accepted_case(numbers, action):
    app = submit()
    with pytest.raises(InvalidTransition):
        act(app, APPROVER, action, "理由", numbers=numbers, now=LATER)


def test_act_approve_without_licence_numbers_is_a_programming_error():
    with pytest.raises(TypeError, match="licence_numbers"):
        accepted(joint=()).act(APPROVER, "approve", calendar=CAL)


@pytest.mark.parametrize("mode", ["online", "window"])
def test_online_and_window_cases_complete_on_approval(numbers, mode):
    app = accepted(mode, joint=())
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    assert app.state == State.COMPLETED
    approved, issued, completed, closed = app.events
    assert approved == ApplicationApproved(
        application_id=app.application_id,
        applicant_id=APPLICANT["user_id"],
        item_id="item-1",
        delivery={"mode": mode, "address": None},
        approved_at=LATER,
    )
    assert isinstance(issued, LicenceIssued)
    assert completed == ApplicationCompleted(
        application_id=app.application_id,
        applicant_id=APPLICANT["user_id"],
        item_id="item-1",
        item_name="食品经营许可",
        department_code=OWN,
        region_code="320102",
        store_id="store-1",
        completed_at=LATER,
    )
    assert closed == ended(app, "completed", at=LATER, on_time=True, working_days=2)


def test_express_case_waits_for_the_result_delivery(numbers):
    app = accepted("express", joint=())
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    assert app.state == State.APPROVED
    assert [e.type for e in app.events] == ["application_approved", "licence_issued"]
    issued = app.events[1]
    assert issued.delivery == {"mode": "express", "address": ADDRESS}
    assert issued.window["name"] == "玄武区政务服务中心"

    app.events.clear()
    delivered_at = datetime(2026, 10, 10, 6, 0, tzinfo=UTC)
    app.result_delivered(now=delivered_at)
    assert app.state == State.COMPLETED
    completed, closed = app.events
    assert (completed.type, completed.completed_at) == ("application_completed", delivered_at)
    # Ended at the delivery, counted to the approval on 8 October.
    assert closed == ended(app, "completed", at=delivered_at, on_time=True, working_days=2)


def test_express_case_accepted_by_ems_then_approved(numbers):
    app = submit("express")
    app.materials_received(calendar=CAL, now=NOW)
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    app.result_delivered(now=LATER)
    assert app.state == State.COMPLETED
    assert [e.action for e in app.timeline] == [
        "submit",
        "materials_received",
        "approve",
        "issue_licence",
        "complete",
    ]
    assert [e.type for e in app.events] == [
        "application_submitted",
        "application_accepted",
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]


# ------------------------------------------------------------------ licence


class Signer:
    """Signs as a key would, and remembers what it signed."""

    def __init__(self):
        self.signed = []

    def __call__(self, data: bytes):
        self.signed.append(data)
        return "kid-1", f"sig-{len(self.signed)}"


def test_final_approval_issues_a_signed_licence():
    signer = Signer()
    app = accepted(joint=())
    # 17:30 UTC on 7 Oct is 8 Oct in Nanjing: the licence carries the local date.
    issued_at = datetime(2026, 10, 7, 17, 30, tzinfo=UTC)
    numbers = LicenceNumbers(signer, serial=lambda: "ABCDEF123456")
    act(app, APPROVER, "approve", numbers=numbers, now=issued_at)
    uscc = default_issuer_uscc(OWN, "320102")
    number = format_number("ITEM1", uscc, "ABCDEF123456", 1)
    assert app.licence_no == number
    assert app.licence == Licence(
        licence_no=number,
        application_id=app.application_id,
        holder_id=APPLICANT["user_id"],
        item_id="item-1",
        item_name="食品经营许可",
        issued_at=issued_at,
        valid=True,
        licence_type=LicenceType("ITEM1", "食品经营许可"),
        issuer_uscc=uscc,
        department_code=OWN,
        valid_from=date(2026, 10, 8),
        valid_to=None,
    )
    document = app.licence.document
    assert document["signature"] == {"alg": "EdDSA", "kid": "kid-1", "value": "sig-1"}
    assert signer.signed == [canonical_json(document["licence"])]
    assert document["licence"]["holder"] == {
        "kind": "person",
        "id": APPLICANT["user_id"],
        "name": None,
    }
    assert document["licence"]["issued_on"] == "2026-10-08"
    assert document["licence"]["content"] == app.form
    assert app.events[1] == LicenceIssued(
        licence_no=number,
        application_id=app.application_id,
        applicant_id=APPLICANT["user_id"],
        item_id="item-1",
        department_code=app.department_code,
        delivery={"mode": "online", "address": None},
        window=app.window,
    )


def test_the_items_licence_type_sets_the_number_and_the_validity():
    app = accepted(joint=())
    app.licence_type = LicenceType("SPJY", "食品经营许可证", valid_years=5)
    app.issuer_uscc = "11320102MB0123456K"
    act(app, APPROVER, "approve", numbers=LicenceNumbers(Signer()), now=LATER)
    parts = parse_number(app.licence_no)
    assert (parts.type_code, parts.issuer_uscc, parts.version) == ("SPJY", "11320102MB0123456K", 1)
    assert app.licence.valid_from == date(2026, 10, 8)
    assert app.licence.valid_to == date(2031, 10, 7)
    assert app.licence.document["licence"]["valid_to"] == "2031-10-07"


def test_partial_approvals_sign_nothing():
    signer = Signer()
    numbers = LicenceNumbers(signer)
    app = accepted()
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    act(app, APPROVER_A, "approve", numbers=numbers, now=LATER)
    assert signer.signed == []
    act(app, APPROVER_B, "approve", numbers=numbers, now=LATER)
    assert len(signer.signed) == 1


def test_a_number_already_taken_is_never_issued_again():
    serials = iter(["AAAAAAAAAAAA", "AAAAAAAAAAAA", "BBBBBBBBBBBB"])
    issued = set()
    numbers = LicenceNumbers(Signer(), taken=issued.__contains__, serial=lambda: next(serials))
    issued.add(numbers.next("SPJY", "11320102MB0123456K"))
    second = numbers.next("SPJY", "11320102MB0123456K")
    assert second not in issued and ".BBBBBBBBBBBB." in second


def test_licence_holder_is_the_enterprise_an_agent_applied_for(numbers):
    principal = {"kind": "enterprise", "uscc": "91320102MA1XYR1234", "name": "老王餐饮有限公司"}
    app = accepted(joint=())
    # The case's principal as part of the case (whatever the submit checks).
    app.on_behalf_of = principal
    act(app, APPROVER, "approve", numbers=numbers, now=LATER)
    assert app.licence.holder_id == "91320102MA1XYR1234"
    assert app.licence.document["licence"]["holder"] == {
        "kind": "enterprise",
        "id": "91320102MA1XYR1234",
        "name": "老王餐饮有限公司",
    }
    assert app.events[1].applicant_id == APPLICANT["user_id"]


@pytest.mark.parametrize(
    ("licence_no", "well_formed"),
    [
        ("1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.4", True),
        ("1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.5", False),
        ("1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8X.001.4", False),
        ("1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.01.4", False),
        ("JS32010220261012000007", True),  # issued before: still a number
        ("js-ga.JS32010220261012000007", True),
        ("JS32010220261312000007", False),  # month 13
        ("JS3201022026101200007", False),
        ("", False),
    ],
)
def test_licence_number_shape(licence_no, well_formed):
    assert LicenceNumbers.is_well_formed(licence_no) is well_formed
