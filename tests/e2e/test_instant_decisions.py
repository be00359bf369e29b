"""Instant items (即办件), end to end: an auto step decides by its rules over
facts from identity and the data exchange simulator, with no staff action;
a refusal names every rule that failed; a source that cannot answer hands the
case to a person, never a guess.

320100-NJFCJ-001 (南京购房资格证明): a verified adult with a Nanjing household
who, single, owns no home in Nanjing (married: fewer than two).
321000-YZMZJ-002 (扬州老年人优待证): a verified person of 60 or more with a
Yangzhou household.
"""

import time
from datetime import date, timedelta

import pytest

from tests.e2e.approvals import (
    act,
    apply_for_person,
    case,
    citizen,
    item,
    on_worklist,
    operator,
    staff,
    step,
    submit,
)
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

HOUSING = "320100-NJFCJ-001"
SENIOR_CARD = "321000-YZMZJ-002"
YANGZHOU = "321002"  # 广陵区
NANJING = "320102"  # 玄武区


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


def decided(applicant: Client, application_id: str, *states: str) -> dict:
    """The case once it reached one of ``states``."""

    def reached():
        view = case(applicant, application_id)
        return view if view["state"] in states else None

    return eventually(reached, timeout=30, interval=0.2, what=f"the case to become {states}")


def test_an_eligible_buyer_gets_the_certificate_within_seconds_without_staff(
    cluster, data_exchange
):
    base = cluster.gateway_url
    applicant, number = citizen(base, "购房人甲", region=NANJING)
    data_exchange.put(number, civil_affairs={"marital_status": "single"}, housing=None)

    guide = item(applicant, HOUSING)
    started = time.monotonic()
    application_id = submit(applicant, guide)
    view = decided(applicant, application_id, "completed", "denied")
    assert time.monotonic() - started < 10
    assert view["state"] == "completed"
    eligibility = step(view, "eligibility")
    assert (eligibility["kind"], eligibility["state"]) == ("auto", "done")
    assert eligibility["auto"] == {"outcome": "approved", "failures": []}
    assert [e["action"] for e in view["timeline"]] == [
        "submit",
        "auto_approve",
        "issue_licence",
        "complete",
    ]
    assert {e["actor_role"] for e in view["timeline"][1:]} == {"system"}
    verified = Client(base).get(f"/api/v1/licences/{view['licence_no']}/verify")
    assert verified.status_code == 200 and verified.json()["valid"] is True
    licences = applicant.get("/api/v1/licences").json()["items"]
    assert view["licence_no"] in [licence["licence_no"] for licence in licences]


def test_a_buyer_who_owns_a_home_is_refused_naming_each_failed_rule(cluster, data_exchange):
    base = cluster.gateway_url
    applicant, number = citizen(base, "购房人乙", region=NANJING)
    data_exchange.put(
        number,
        civil_affairs={"marital_status": "single"},
        housing={"homes_owned": {"320100": 1}},
    )

    application_id = submit(applicant, item(applicant, HOUSING))
    view = decided(applicant, application_id, "completed", "denied")
    assert view["state"] == "denied"
    assert view["licence_no"] is None
    auto = step(view, "eligibility")["auto"]
    assert auto["outcome"] == "denied"
    failed = " ".join(auto["failures"])
    # neither branch of the "any" held: married (is single), single without a home (owns 1)
    assert "civil_affairs.marital_status" in failed and "'single'" in failed
    assert "housing.homes_owned lt 1 (is 1)" in failed
    denial = view["timeline"][-1]
    assert denial["action"] == "auto_deny"
    assert "housing.homes_owned" in denial["comment"]
    assert "civil_affairs.marital_status" in denial["comment"]
    # the conditions that held are not named
    assert "applicant.age" not in denial["comment"]


def test_a_register_that_cannot_answer_hands_the_case_to_a_person(cluster, data_exchange):
    base = cluster.gateway_url
    approver = staff(operator(base), "nj-fc", "approver", name="房产局审核")
    applicant, number = citizen(base, "购房人丙", region=NANJING)
    data_exchange.put(number, civil_affairs={"marital_status": "single"}, housing=None)

    data_exchange.set_down("civil_affairs")
    try:
        application_id = submit(applicant, item(applicant, HOUSING))

        def handed_over():
            view = case(applicant, application_id)
            auto = step(view, "eligibility")["auto"]
            return view if auto and auto["outcome"] == "unavailable" else None

        view = eventually(handed_over, timeout=30, interval=0.2, what="the step to go to a person")
    finally:
        data_exchange.set_down("civil_affairs", False)

    assert view["state"] == "submitted"
    eligibility = step(view, "eligibility")
    assert eligibility["auto"]["source"] == "civil_affairs"
    assert eligibility["state"] == "active"
    assert (eligibility["department_code"], eligibility["role"]) == ("nj-fc", "approver")
    assert view["timeline"][-1]["action"] == "auto_unavailable"
    assert view["licence_no"] is None

    # An approver of the item's department has the task, and decides.
    entry = on_worklist(approver, application_id)
    assert entry["task"]["step"] == "eligibility"
    assert entry["task"]["role"] == "approver"
    assert entry["task"]["due_date"] == eligibility["due_date"]
    view = act(approver, application_id, "approve", step="eligibility", comment="人工核验符合条件")
    assert view["state"] == "completed"
    assert view["licence_no"]
    assert step(view, "eligibility")["auto"]["outcome"] == "unavailable"  # what happened, kept


@pytest.mark.parametrize(
    ("region", "born", "granted", "failed"),
    [
        (YANGZHOU, date(1950, 3, 8), True, None),
        (YANGZHOU, date(1990, 3, 8), False, "applicant.age ge 60"),
        (NANJING, date(1950, 3, 8), False, "applicant.household_region startswith '3210'"),
    ],
    ids=["yangzhou-senior", "too-young", "not-yangzhou"],
)
def test_the_senior_citizen_card(cluster, region, born, granted, failed):
    base = cluster.gateway_url
    applicant, _ = citizen(base, "王老伯", region=region, born=born)
    application_id = submit(applicant, item(applicant, SENIOR_CARD))
    view = decided(applicant, application_id, "completed", "denied")
    auto = step(view, "concession-card")["auto"]
    if granted:
        assert view["state"] == "completed"
        assert auto["outcome"] == "approved"
        assert view["licence_no"]
    else:
        assert view["state"] == "denied"
        assert view["licence_no"] is None
        assert auto["outcome"] == "denied"
        assert len(auto["failures"]) == 1
        assert auto["failures"][0].startswith(failed)
        assert failed in view["timeline"][-1]["comment"]


def test_the_rules_count_age_on_the_cluster_s_today(cluster, clock):
    """Sixty tomorrow: refused today, granted once the clock has moved."""
    base = cluster.gateway_url
    today = clock.real_today()
    try:
        sixty_years_ago = today.replace(year=today.year - 60)
    except ValueError:  # 29 February
        sixty_years_ago = today.replace(year=today.year - 60, day=28)
    applicant, _ = citizen(
        base, "李阿姨", region=YANGZHOU, born=sixty_years_ago + timedelta(days=1)
    )
    guide = item(applicant, SENIOR_CARD)

    early = decided(applicant, submit(applicant, guide), "completed", "denied")
    assert early["state"] == "denied"
    assert step(early, "concession-card")["auto"]["failures"] == ["applicant.age ge 60 (is 59)"]

    clock.move_by(2)
    later = decided(applicant, submit(applicant, guide), "completed", "denied")
    assert later["state"] == "completed"
    assert later["licence_no"]


def test_an_agents_application_for_a_person_is_decided_on_the_persons_facts(cluster):
    """The person an agent applies for has an account: the auto step decides on
    their facts (age, household), not the agent's, and the card is theirs."""
    base = cluster.gateway_url
    agent, _ = citizen(base, "代办人", region=NANJING, born=date(1990, 1, 1))
    elder, _ = citizen(base, "王老人", region=YANGZHOU, born=date(1950, 3, 8))
    application_id = apply_for_person(elder, agent, SENIOR_CARD)
    elder_id = elder.get("/api/v1/me").json()["user_id"]

    view = decided(agent, application_id, "completed", "denied")
    assert view["state"] == "completed", step(view, "concession-card")["auto"]
    assert view["on_behalf_of"] == {"kind": "person", "user_id": elder_id, "name": "王老人"}
    licences = elder.get("/api/v1/licences").json()["items"]
    assert [licence["licence_no"] for licence in licences] == [view["licence_no"]]


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
