"""Agents (代办制) in the workflow: who may apply for whom (identity says), who
follows the case (the principal's members too), whose the licence is, and how
a revoked mandate stops the agent at once while the principal still acts."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common import errors
from services.common.testing import envelope, staff
from services.workflow.service_layer import principals, use_cases

from .conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    FORM,
    MATERIALS,
    NOW,
    ONLINE,
    OTHER_CITIZEN,
    citizen,
    item,
)

USCC = "91320102MA1XYR1234"
ENTERPRISE = {"kind": "enterprise", "uscc": USCC}
ENTERPRISE_NAMED = {**ENTERPRISE, "name": "南京某某科技有限公司"}
PERSON = {"kind": "person", "user_id": "u-principal"}
PRINCIPAL = citizen("u-principal", name="王五")
OWNER = citizen("u-owner", name="张老板")
MEMBER = citizen("u-member", name="李会计")
AGENT = staff("u-agent", "js-zwfw", "agent")
PLAIN_STAFF = staff("u-staff", "js-zwfw", "window_clerk")


def submit(uow, actor=APPLICANT, on_behalf_of=None):
    return use_cases.submit_application(
        uow, item(joint_departments=[]), actor, FORM, MATERIALS, ONLINE, on_behalf_of, now=NOW
    )


def identity_event(event_type, payload, at=NOW, event_id=None):
    return envelope("identity", event_type, payload, occurred_at=at, event_id=event_id)


@pytest.fixture
def enterprise(uow):
    """The enterprise as workflow learnt it: its owner, and one member."""
    principals.on_enterprise_registered(
        uow,
        identity_event(
            "enterprise_registered",
            {"enterprise_id": "e-1", "uscc": USCC, "owner_user_id": OWNER["user_id"]},
        ),
    )
    principals.on_member_added(
        uow, identity_event("enterprise_member_added", {"uscc": USCC, "user_id": "u-member"})
    )


def actions(view) -> list[str]:
    return [entry["action"] for entry in view.available_actions]


# ------------------------------------------------------------------ submission


def test_without_a_mandate_an_agent_is_refused_and_nothing_is_stored(uow, identity):
    with pytest.raises(errors.Forbidden):
        submit(uow, AGENT, ENTERPRISE)
    assert identity.calls[0][:3] == (AGENT["user_id"], ENTERPRISE, "item-food-licence")
    assert use_cases.list_applications(uow, AGENT)["total"] == 0


def test_an_agent_applies_for_an_enterprise_under_a_mandate(uow, identity, enterprise):
    identity.allow(AGENT["user_id"], ENTERPRISE, mandate_id="m-7")
    case = submit(uow, AGENT, ENTERPRISE)
    assert case.on_behalf_of == ENTERPRISE_NAMED
    assert (case.mandate_id, case.holder_id, case.applicant_id) == ("m-7", USCC, "u-agent")
    [entry] = case.timeline[:1]
    assert (entry.action, entry.actor_id, entry.on_behalf_of) == (
        "submit",
        "u-agent",
        ENTERPRISE_NAMED,
    )

    # The agent, the owner and the member follow it; nobody else sees it.
    for follower in (AGENT, OWNER, MEMBER):
        assert use_cases.get_application(uow, follower, case.application_id)
        listed = use_cases.list_applications(uow, follower)["items"]
        assert [found.application_id for found in listed] == [case.application_id]
    with pytest.raises(errors.NotFound):
        use_cases.get_application(uow, OTHER_CITIZEN, case.application_id)
    assert use_cases.list_applications(uow, OTHER_CITIZEN)["total"] == 0

    # The licence is the enterprise's, and every follower lists it.
    use_cases.act(uow, CLERK, case.application_id, "accept")
    approved = use_cases.act(uow, APPROVER, case.application_id, "approve")
    assert approved.licence.holder_id == USCC
    for follower in (AGENT, OWNER, MEMBER):
        licences = use_cases.list_licences(uow, follower)["items"]
        assert [licence["licence_no"] for licence in licences] == [approved.licence_no]
    assert use_cases.list_licences(uow, OTHER_CITIZEN)["items"] == []


def test_staff_apply_only_as_agents_and_only_for_someone(uow, identity):
    with pytest.raises(errors.Forbidden):
        submit(uow, AGENT, None)
    with pytest.raises(errors.Forbidden):
        submit(uow, PLAIN_STAFF, ENTERPRISE)
    assert identity.calls == []


def test_a_citizen_naming_themself_applies_for_themself(uow, identity):
    case = submit(uow, APPLICANT, {"kind": "person", "user_id": APPLICANT["user_id"]})
    assert (case.on_behalf_of, case.holder_id) == (None, APPLICANT["user_id"])
    assert identity.calls == []


def test_a_bad_principal_is_invalid_before_identity_is_asked(uow, identity):
    with pytest.raises(errors.Invalid) as refused:
        submit(uow, AGENT, {"kind": "person", "name": "王五", "id_number": "320102199001011234"})
    assert set(refused.value.fields) == {"on_behalf_of.user_id"}
    assert identity.calls == []


# ------------------------------------------------------------- after the mandate


def test_a_revoked_mandate_stops_the_agent_at_once_but_not_the_principal(uow, identity, enterprise):
    identity.allow(AGENT["user_id"], ENTERPRISE)
    case = submit(uow, AGENT, ENTERPRISE)
    use_cases.act(
        uow,
        CLERK,
        case.application_id,
        "request_supplement",
        "缺少卫生许可证",
        missing_materials=["卫生许可证"],
    )
    assert actions(use_cases.get_application(uow, AGENT, case.application_id)) == [
        "withdraw",
        "supplement",
    ]

    identity.revoke(AGENT["user_id"], ENTERPRISE)
    with pytest.raises(errors.Forbidden, match="mandate"):
        use_cases.supplement(uow, dict(AGENT), case.application_id, [{"name": "卫生许可证"}])
    with pytest.raises(errors.Forbidden):
        use_cases.withdraw(uow, dict(AGENT), case.application_id)
    # The agent still sees the case, with nothing left to do on it.
    assert actions(use_cases.get_application(uow, AGENT, case.application_id)) == []

    # A member of the enterprise supplies the materials in its name.
    view = use_cases.supplement(uow, dict(MEMBER), case.application_id, [{"name": "卫生许可证"}])
    assert view.state == "submitted"
    last = view.timeline[-1]
    assert (last.action, last.actor_id, last.on_behalf_of) == (
        "supplement",
        "u-member",
        ENTERPRISE_NAMED,
    )
    assert use_cases.withdraw(uow, dict(OWNER), case.application_id).state == "withdrawn"


def test_a_person_follows_and_acts_on_the_case_applied_for_them(uow, identity):
    identity.allow(APPLICANT["user_id"], PERSON, mandate_id="m-p")
    case = submit(uow, APPLICANT, PERSON)
    assert case.holder_id == "u-principal"
    assert [c.application_id for c in use_cases.list_applications(uow, PRINCIPAL)["items"]] == [
        case.application_id
    ]
    assert "withdraw" in actions(use_cases.get_application(uow, PRINCIPAL, case.application_id))
    identity.revoke(APPLICANT["user_id"], PERSON)
    with pytest.raises(errors.Forbidden):
        use_cases.withdraw(uow, dict(APPLICANT), case.application_id)
    withdrawn = use_cases.withdraw(uow, dict(PRINCIPAL), case.application_id)
    assert withdrawn.state == "withdrawn"
    assert withdrawn.timeline[-1].on_behalf_of == {**PERSON, "name": "王五"}


def test_staff_commands_are_not_checked_against_a_mandate(uow, identity):
    identity.allow(AGENT["user_id"], ENTERPRISE)
    case = submit(uow, AGENT, ENTERPRISE)
    identity.revoke(AGENT["user_id"], ENTERPRISE)
    calls = len(identity.calls)
    assert use_cases.act(uow, CLERK, case.application_id, "accept").state == "accepted"
    assert len(identity.calls) == calls
    assert case.timeline[0].on_behalf_of == ENTERPRISE_NAMED


def test_identity_silent_is_unavailable_not_a_pass(uow, identity):
    identity.allow(AGENT["user_id"], ENTERPRISE)
    case = submit(uow, AGENT, ENTERPRISE)
    uow.authorise_principal = None
    with pytest.raises(errors.Unavailable):
        use_cases.withdraw(uow, dict(AGENT), case.application_id)


# ------------------------------------------------------------- the read model


def test_membership_events_count_once_and_an_older_one_never_undoes_a_newer(uow):
    added = identity_event("enterprise_member_added", {"uscc": USCC, "user_id": "u-member"}, at=NOW)
    removed = identity_event(
        "enterprise_member_removed",
        {"uscc": USCC, "user_id": "u-member"},
        at=NOW + timedelta(minutes=5),
    )
    assert principals.on_member_removed(uow, removed) is True
    assert principals.on_member_added(uow, added) is False  # older: ignored
    assert principals.on_member_removed(uow, removed) is False  # a repeat
    with uow:
        assert uow.memberships.enterprises_of("u-member") == []

    again = identity_event(
        "enterprise_member_added",
        {"uscc": USCC, "user_id": "u-member"},
        at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert principals.on_member_added(uow, again) is True
    with uow:
        assert uow.memberships.enterprises_of("u-member") == [USCC]
