"""Steps met by evidence (区域评) and fees paid online (网上支付), end to end.

320115-JNXZSPJ-003 (江宁区行政审批局, 建筑工程施工许可证核发（开发区内项目）) has two
assessment steps: environmental_impact, which 南京江宁经济技术开发区 holds valid,
and flood_impact, whose report there expired. A form naming the zone passes
the first at once, covered by the zone's report; the second (and both, for a
form naming no zone) goes to an approver who checks the report supplied.

Fees are paid at the payment simulator's cashier, which notifies the gateway
(signed) and so the workflow instance that owns the case:
320100-NJRSJ-001 (南京 社会保障卡补领, 20 元) pays after the card is approved,
free for applicants of 70 or more (its fee waiver);
320000-JSRST-001 (江苏 社会保障卡补领, 50 元) pays before the card is made, so a
denial after payment refunds it.
"""

from datetime import date

import pytest

from tests.e2e.approvals import act, case, citizen, item, operator, staff, step
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

ZONE_ITEM = "320115-JNXZSPJ-003"
ZONE_NAME = "南京江宁经济技术开发区"
NANJING_CARD = "320100-NJRSJ-001"
PROVINCE_CARD = "320000-JSRST-001"


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def bureau(cluster):
    """A window clerk and approver of 江宁区行政审批局, and an approver of 江宁区住建局."""
    op = operator(cluster.gateway_url)
    return (
        staff(op, "jn-xzsp", "window_clerk", "approver", name="审批局窗口"),
        staff(op, "jn-zjj", "approver", name="住建局审核"),
    )


def zone_id(base: str) -> str:
    response = operator(base).get("/api/v1/zones", params={"page_size": 100})
    assert response.status_code == 200, response.text
    (zone,) = [z for z in response.json()["items"] if z["name"] == ZONE_NAME]
    return zone["zone_id"]


def apply(applicant: Client, code: str, form: dict | None = None) -> str:
    guide = item(applicant, code)
    response = applicant.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "form": {"purpose": "e2e", **(form or {})},
            "materials": [{"name": material["name"]} for material in guide["materials"]],
            "delivery": {"mode": "online"},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["application_id"]


def settled(client: Client, application_id: str, check, what: str) -> dict:
    def reached():
        view = case(client, application_id)
        return view if check(view) else None

    return eventually(reached, timeout=30, interval=0.2, what=what)


def evidence_looked_up(client: Client, application_id: str, step_id: str) -> dict:
    return settled(
        client,
        application_id,
        lambda view: step(view, step_id)["evidence"] is not None,
        f"the lookup of {step_id}",
    )


# ------------------------------------------------------------------ evidence


def test_a_zones_valid_report_covers_its_step_and_an_expired_one_goes_to_a_person(cluster, bureau):
    base = cluster.gateway_url
    clerk, housing = bureau
    applicant, _ = citizen(base, "开发区企业甲")
    application_id = apply(applicant, ZONE_ITEM, {"zone_id": zone_id(base)})
    act(clerk, application_id, "accept")

    view = evidence_looked_up(applicant, application_id, "flood")
    environment, flood = step(view, "environment"), step(view, "flood")
    assert environment["state"] == "done"
    assert environment["covered_by"]["kind"] == "assessment"
    assert "区域环境影响评价" in environment["covered_by"]["title"]
    assert environment["evidence"]["outcome"] == "covered"
    covered = next(e for e in view["timeline"] if e["action"] == "evidence_covered")
    assert (covered["step"], covered["actor_role"]) == ("environment", "system")

    # The flood report expired in February: it covers nothing.
    assert flood["state"] == "active"
    assert flood["covered_by"] is None
    assert flood["evidence"]["outcome"] == "not_covered"
    assert ZONE_NAME in flood["evidence"]["reason"]
    assert (flood["department_code"], flood["role"]) == ("jn-xzsp", "approver")
    assert ("approve", "flood") in {
        (a["action"], a["step"]) for a in case(clerk, application_id)["available_actions"]
    }
    view = act(clerk, application_id, "approve", step="flood", comment="申请人提交的防洪评价合格")
    assert step(view, "flood")["state"] == "done"
    view = act(housing, application_id, "approve", step="consult-zjj")
    view = act(clerk, application_id, "approve", step="decide")
    assert view["state"] == "completed"
    assert view["licence_no"]


def test_without_a_zone_the_reviewer_checks_the_report_and_may_deny(cluster, bureau):
    base = cluster.gateway_url
    clerk, _ = bureau
    applicant, _ = citizen(base, "开发区企业乙")
    application_id = apply(applicant, ZONE_ITEM)
    act(clerk, application_id, "accept")

    view = evidence_looked_up(applicant, application_id, "environment")
    environment = step(view, "environment")
    assert environment["state"] == "active"
    assert environment["evidence"]["outcome"] == "not_covered"
    assert "zone_id" in environment["evidence"]["reason"]
    assert view["timeline"][-1]["action"] == "evidence_not_covered"
    view = act(clerk, application_id, "deny", step="environment", comment="未提交环评批复")
    assert view["state"] == "denied"
    assert step(view, "flood")["state"] == "closed"


# ------------------------------------------------------------------- payment


def payment_due(client: Client, application_id: str) -> dict:
    return settled(
        client,
        application_id,
        lambda view: (view["payment"] or {}).get("state") == "pending",
        "the order of the fees",
    )


def test_a_fee_paid_at_the_cashier_moves_the_case_on_and_the_licence_is_issued(cluster, payment):
    base = cluster.gateway_url
    worker = staff(operator(base), "nj-rs", "window_clerk", "approver", name="社保窗口")
    applicant, _ = citizen(base, "补卡人甲", born=date(1990, 5, 1))
    application_id = apply(applicant, NANJING_CARD)
    act(worker, application_id, "accept")
    decided = act(worker, application_id, "approve", step="make-card")
    assert decided["state"] == "accepted"  # no licence before the fee is paid
    assert decided["licence_no"] is None
    assert decided["clock"]["stopped_for"] == "payment"

    view = payment_due(applicant, application_id)
    fee = view["payment"]
    assert fee["amount_fen"] == 2000
    assert fee["fees"][0]["name"] == "社会保障卡补卡工本费"
    assert fee["waiver"] is None
    assert fee["pay_url"].endswith(f"/cashier/{fee['order_id']}")
    assert ("pay", "payment") in {(a["action"], a["step"]) for a in view["available_actions"]}
    (order,) = payment.orders(application_id)
    assert (order["order_id"], order["amount_fen"], order["state"]) == (
        fee["order_id"],
        2000,
        "pending",
    )

    assert payment.pay(fee["pay_url"])["state"] == "paid"
    view = settled(
        applicant, application_id, lambda v: v["state"] == "completed", "the case to complete"
    )
    assert view["payment"]["state"] == "paid"
    assert view["payment"]["paid_at"]
    assert view["licence_no"]
    assert view["clock"]["running"] is True
    assert not {a["action"] for a in view["available_actions"]} & {"pay"}
    actions = [entry["action"] for entry in view["timeline"]]
    assert actions.index("request_payment") < actions.index("pay") < actions.index("issue_licence")
    pay = next(entry for entry in view["timeline"] if entry["action"] == "pay")
    assert pay["actor_role"] == "applicant"


def test_a_paid_case_denied_later_is_refunded_even_when_the_platform_was_down(cluster, payment):
    base = cluster.gateway_url
    worker = staff(operator(base), "js-rs", "window_clerk", "approver", name="省社保窗口")
    applicant, _ = citizen(base, "补卡人乙", born=date(1985, 3, 3))
    application_id = apply(applicant, PROVINCE_CARD)
    act(worker, application_id, "accept")
    fee = payment_due(applicant, application_id)["payment"]
    assert fee["amount_fen"] == 5000
    payment.pay(fee["pay_url"])
    view = settled(
        applicant,
        application_id,
        lambda v: step(v, "make-card")["state"] == "active",
        "the card to be made once paid",
    )
    assert view["payment"]["state"] == "paid"

    payment.set_down()
    try:
        view = act(worker, application_id, "deny", step="make-card", comment="原卡未挂失")
        assert view["state"] == "denied"
        assert view["payment"]["state"] == "refunding"
    finally:
        payment.set_down(False)
    view = settled(
        applicant,
        application_id,
        lambda v: v["payment"]["state"] == "refunded",
        "the refund",
    )
    assert view["payment"]["refunded_at"]
    assert view["timeline"][-1]["action"] == "refund"
    (order,) = payment.orders(application_id)
    assert (order["state"], order["refunded_fen"], len(order["refunds"])) == ("refunded", 5000, 1)


def test_a_fee_waived_by_the_rule_is_not_charged(cluster, payment):
    base = cluster.gateway_url
    worker = staff(operator(base), "nj-rs", "window_clerk", "approver", name="社保窗口乙")
    applicant, _ = citizen(base, "补卡老人", born=date(1950, 1, 1))
    application_id = apply(applicant, NANJING_CARD)
    act(worker, application_id, "accept")
    act(worker, application_id, "approve", step="make-card")
    view = settled(
        applicant, application_id, lambda v: v["state"] == "completed", "the case to complete"
    )
    assert view["payment"]["state"] == "waived"
    assert view["payment"]["amount_fen"] == 0
    assert view["payment"]["waiver"] == {
        "description": "70周岁及以上老年人补领社会保障卡免收补卡工本费",
        "waived_fen": 2000,
    }
    assert view["licence_no"]
    assert "waive_payment" in [entry["action"] for entry in view["timeline"]]
    assert payment.orders(application_id) == []


def test_nothing_went_wrong_in_the_logs(watch):
    assert watch.problems() == []
