"""好差评 end to end: reviews of ended cases and of window visits, the
rectification of bad reviews (verified, resolved, called back, reopened once,
escalated when late), appeals against reviews, and the published indicators,
all through the gateway with every service, the broker and the SMS simulator
running.

Each test works on an item no other end-to-end test applies for, so its
figures are its own. Working days are counted on the calendar the cluster
holds (read through the operator's calendar route), never on today's weekday.
"""

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.e2e.approvals import (
    CHINA,
    Calendar,
    citizen,
    day_of,
    end,
    iso,
    item,
    operator,
    staff,
    submit,
)
from tests.e2e.test_journey import Client, eventually, new_phone

pytestmark = pytest.mark.e2e

RECTIFIED = "320000-JSMZT-001"  # js-mz: accept 2, examine 12, decide 6 (rectifications)
APPEALED = "320100-NJRSJ-001"  # nj-rs (store-nj-rs): accept 1, make card 2 (appeals)
VISITED = "320115-JNXZSPJ-001"  # jn-xzsp, at the window (visits)
COUNTED = "320583-KSXZSPJ-001"  # ks-xzsp: accept, register (the hand count)
LATE = "320500-SZJTJ-001"  # sz-jt: accept, vehicles (review), decide (the review window)

NOT_ENDED = "the case has not ended yet"
# The escalation sweep runs every second (RECTIFICATION_CHECK_SECONDS in conftest).
SWEEP_SECONDS = 1.0


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def the_operator(cluster):
    return operator(cluster.gateway_url)


@pytest.fixture(scope="module")
def applicant(cluster):
    """A citizen with a verified real name, signed in after the verification:
    the reviews are real-name."""
    client, _ = citizen(cluster.gateway_url, "王明", fresh_token=True)
    return client


@pytest.fixture(scope="module")
def calendar(the_operator):
    year = datetime.now(CHINA).year
    return Calendar.of_cluster(the_operator, year, year + 1)


# ------------------------------------------------------------------ helpers


def ended_case(applicant: Client, worker: Client, guide: dict, outcome: str) -> str:
    """A new case of ``guide``'s item, taken to ``outcome``; its id."""
    application_id = submit(applicant, guide)
    end(worker, application_id, outcome)
    return application_id


def review(applicant: Client, application_id: str, grade: int, **body):
    """POST .../review once ratings has heard that the case ended; the answer."""
    path = f"/api/v1/applications/{application_id}/review"

    def answered():
        response = applicant.post(path, json={"grade": grade, **body})
        if response.status_code == 409 and response.json()["error"]["message"] == NOT_ENDED:
            return None
        return [response]  # a 4xx Response is falsy

    return eventually(answered, timeout=20, interval=0.2, what="ratings to hear the case ended")[0]


def reviewed(applicant: Client, application_id: str, grade: int, **body) -> str:
    """The id of the applicant's new review of the case."""
    response = review(applicant, application_id, grade, **body)
    assert response.status_code == 201, response.text
    return response.json()["review_id"]


def pages(client: Client, path: str, **params) -> list[dict]:
    """Every item of a paged collection."""
    found, page = [], 1
    while True:
        response = client.get(path, params={"page": page, "page_size": 100, **params})
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        if page * body["page_size"] >= body["total"]:
            return found
        page += 1


def rectification_of(worker: Client, review_id: str) -> dict:
    """The rectification a bad review opened, as the department's staff see it."""
    found = [r for r in pages(worker, "/api/v1/rectifications") if r["review_id"] == review_id]
    assert len(found) == 1, found
    return found[0]


def rectification_ids(client: Client, **params) -> set[str]:
    return {r["rectification_id"] for r in pages(client, "/api/v1/rectifications", **params)}


def post(client: Client, path: str, body: dict, expect: int = 200) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == expect, (path, response.status_code, response.text)
    return response.json()


def visits_of(rectification: dict) -> list[tuple]:
    """Its return visits as (round, reached, satisfied, comment)."""
    return [
        (v["round"], v["reached"], v["satisfied"], v["comment"])
        for v in rectification["return_visits"]
    ]


def rate(numerator: int, denominator: int, places: int = 4) -> float | None:
    """numerator / denominator rounded half up, as published; None over 0."""
    if denominator == 0:
        return None
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def rating_stats(client: Client, **params) -> dict:
    response = client.get("/api/v1/stats/ratings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def board(client: Client, store_id: str) -> dict:
    """The store's public board (first 100 reviews) with its summary."""
    response = client.get(f"/api/v1/stores/{store_id}/reviews", params={"page_size": 100})
    assert response.status_code == 200, response.text
    return response.json()


def record_visit(clerk: Client, guide: dict, phone: str | None = None) -> dict:
    body = (
        {"item_id": guide["item_id"]}
        if phone is None
        else {"item_id": guide["item_id"], "phone": phone}
    )
    return post(clerk, "/api/v1/visits", body, expect=201)


def rate_visit(base_url: str, token: str, grade: int, channel: str, **body):
    """POST /api/v1/visits/review, anonymously; waits out the rate limit it
    shares with sign-in."""
    client = Client(base_url)
    for _ in range(20):
        response = client.post(
            "/api/v1/visits/review",
            json={"token": token, "grade": grade, "channel": channel, **body},
        )
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise AssertionError("the visit's review stayed rate limited")


# -------------------------------------------------------------------- tests


def test_bad_reviews_are_verified_resolved_called_back_and_reopened_once(
    cluster, the_operator, applicant, calendar
):
    worker = staff(the_operator, "js-mz", "window_clerk", "approver", name="民政窗口")
    guide = item(applicant, RECTIFIED)

    # A grade 1 opens a rectification for the department, due for
    # verification the next working day.
    application_id = ended_case(applicant, worker, guide, "rejected")
    review_id = reviewed(applicant, application_id, 1, comment="窗口指引不清，跑了两趟")
    opened = rectification_of(worker, review_id)
    path = f"/api/v1/rectifications/{opened['rectification_id']}"
    assert (opened["state"], opened["round"], opened["grade"]) == ("awaiting_verification", 1, 1)
    assert opened["department_code"] == "js-mz"
    assert opened["application_id"] == application_id and opened["visit_id"] is None
    assert opened["review_comment"] == "窗口指引不清，跑了两趟"
    assert opened["store_id"] == guide["store_id"] and opened["item_id"] == guide["item_id"]
    assert opened["verify_due"] == iso(calendar.add(day_of(opened["opened_at"]), 1))
    assert opened["overdue"] is False and opened["return_visits"] == []
    post(worker, f"{path}/resolve", {"comment": "先改了"}, expect=409)  # not verified yet

    # Verified with a deadline of 5 working days, resolved, called back:
    # the citizen is satisfied and it closes.
    plan = {"decision": "deadline", "plan": "五个工作日内补齐窗口指引", "working_days": 5}
    view = post(worker, f"{path}/verify", plan)
    assert (view["state"], view["decision"], view["working_days"]) == ("verified", "deadline", 5)
    assert view["due_date"] == iso(calendar.add(day_of(view["verified_at"]), 5))
    assert view["plan"] == plan["plan"] and view["verified_by"]
    post(worker, f"{path}/verify", plan, expect=409)  # verified once per round
    call = {"reached": True, "satisfied": True, "comment": "群众表示满意"}
    post(worker, f"{path}/return-visit", call, expect=409)  # nothing to call back about yet
    view = post(worker, f"{path}/resolve", {"comment": "已补齐窗口指引并培训窗口人员"})
    assert view["state"] == "resolved" and view["resolved_at"] and view["resolved_by"]
    assert view["resolution_comment"] == "已补齐窗口指引并培训窗口人员"
    view = post(worker, f"{path}/return-visit", call)
    assert (view["state"], view["outcome"], view["round"]) == ("closed", "satisfied", 1)
    assert view["closed_at"]
    assert visits_of(view) == [(1, True, True, "群众表示满意")]
    assert worker.get(path).json() == view
    post(worker, f"{path}/return-visit", call, expect=409)

    # Another: the citizen is not satisfied, and it goes back to the
    # department as round 2.
    application_id = ended_case(applicant, worker, guide, "completed")
    review_id = reviewed(applicant, application_id, 2, comment="审批太慢")
    path = f"/api/v1/rectifications/{rectification_of(worker, review_id)['rectification_id']}"
    view = post(worker, f"{path}/verify", {"decision": "deadline", "plan": "优化审批流程"})
    assert view["working_days"] == 15  # the default deadline
    assert view["due_date"] == iso(calendar.add(day_of(view["verified_at"]), 15))
    post(worker, f"{path}/resolve", {"comment": "审批环节已精简"})
    unsatisfied = {"reached": True, "satisfied": False, "comment": "仍不满意"}
    view = post(worker, f"{path}/return-visit", unsatisfied)
    assert (view["state"], view["round"], view["outcome"]) == ("awaiting_verification", 2, None)
    reopened_on = day_of(view["return_visits"][0]["recorded_at"])
    assert view["verify_due"] == iso(calendar.add(reopened_on, 1))
    for name in ("decision", "plan", "working_days", "due_date", "verified_at", "resolved_at"):
        assert view[name] is None, name
    assert view["closed_at"] is None
    assert visits_of(view) == [(1, True, False, "仍不满意")]
    assert worker.get(path).json() == view

    # Round 2: explained, the explanation is the answer; a call that does not
    # reach the citizen changes nothing; unsatisfied again, it closes.
    view = post(worker, f"{path}/verify", {"decision": "explain", "plan": "审批时限由法规规定"})
    assert (view["state"], view["decision"], view["round"]) == ("verified", "explain", 2)
    assert view["due_date"] == iso(day_of(view["verified_at"]))
    view = post(worker, f"{path}/resolve", {})
    assert view["state"] == "resolved"
    assert view["resolution_comment"] == "审批时限由法规规定"
    view = post(worker, f"{path}/return-visit", {"reached": False, "comment": "电话未接通"})
    assert view["state"] == "resolved"
    view = post(worker, f"{path}/return-visit", unsatisfied)
    assert (view["state"], view["outcome"], view["round"]) == ("closed", "closed_after_reopen", 2)
    assert visits_of(view) == [
        (1, True, False, "仍不满意"),
        (2, False, None, "电话未接通"),
        (2, True, False, "仍不满意"),
    ]
    assert worker.get(path).json() == view


def test_a_late_rectification_goes_to_the_department_admin_then_to_the_operator(
    cluster, clock, the_operator, applicant, calendar
):
    worker = staff(the_operator, "js-mz", "window_clerk", "approver", name="民政窗口")
    admin = staff(the_operator, "js-mz", "dept_admin", name="民政管理员")
    guide = item(applicant, RECTIFIED)

    # One is never verified; the other is verified with a day to fix it, and
    # never fixed. Both are due the next working day.
    unverified = rectification_of(
        worker, reviewed(applicant, ended_case(applicant, worker, guide, "rejected"), 2)
    )
    unfixed = rectification_of(
        worker, reviewed(applicant, ended_case(applicant, worker, guide, "rejected"), 1)
    )
    unfixed = post(
        worker,
        f"/api/v1/rectifications/{unfixed['rectification_id']}/verify",
        {"decision": "deadline", "plan": "一个工作日内整改", "working_days": 1},
    )
    due = calendar.add(day_of(unverified["opened_at"]), 1)
    assert unverified["verify_due"] == iso(due) and unfixed["due_date"] == iso(due)
    ids = {unverified["rectification_id"], unfixed["rectification_id"]}

    def late(client, level):
        """Which of the two ``client`` lists as escalated to ``level``."""
        return ids & rectification_ids(client, level=level)

    def escalations(client, rectification_id):
        """(overdue, [(level, round, due_date), ...]) as ``client`` sees it."""
        response = client.get(f"/api/v1/rectifications/{rectification_id}")
        assert response.status_code == 200, response.text
        view = response.json()
        return view["overdue"], [
            (e["level"], e["round"], e["due_date"]) for e in view["escalations"]
        ]

    # On the day they are due they are not late.
    clock.move_to(due)
    time.sleep(SWEEP_SECONDS + 0.5)  # a sweep has run on the moved clock
    assert late(admin, "dept_admin") == set()
    for rectification_id in ids:
        assert escalations(admin, rectification_id) == (False, [])

    # A working day after: to the department's admin.
    clock.move_to(calendar.add(due, 1))
    eventually(lambda: late(admin, "dept_admin") == ids, timeout=20, what="the escalation")
    assert late(admin, "operator") == set()
    for rectification_id in ids:
        assert escalations(admin, rectification_id) == (True, [("dept_admin", 1, iso(due))])
    assert late(worker, "dept_admin") == ids  # the department's staff see it too
    assert late(the_operator, "dept_admin") == ids
    assert late(the_operator, "operator") == set()

    # Three working days later still late: to the operator as well.
    clock.move_to(calendar.add(due, 1 + 3))
    eventually(lambda: late(the_operator, "operator") == ids, timeout=20, what="the operator")
    assert late(admin, "operator") == ids
    for rectification_id in ids:
        assert escalations(the_operator, rectification_id) == (
            True,
            [("dept_admin", 1, iso(due)), ("operator", 1, iso(due))],
        )


def test_an_upheld_appeal_takes_a_review_off_the_board_and_out_of_the_rates(
    cluster, the_operator, applicant
):
    base = cluster.gateway_url
    worker = staff(the_operator, "nj-rs", "window_clerk", "approver", name="人社窗口")
    admin = staff(the_operator, "nj-rs", "dept_admin", name="人社管理员")
    guide = item(applicant, APPEALED)
    store_id = guide["store_id"]
    anyone = Client(base)
    before = board(anyone, store_id)["summary"]

    def figures(reviews, praise):
        """Once the board's summary and the store's stats both count
        ``reviews`` and ``praise``, with the praise rate they make."""
        expected = (reviews, praise, rate(praise, reviews))

        def counted():
            shown = [board(anyone, store_id)["summary"]]
            shown.append(rating_stats(anyone, store=store_id)["overall"])
            found = [(s["reviews"], s["praise"], s["praise_rate"]) for s in shown]
            return shown if found == [expected, expected] else None

        return eventually(counted, timeout=20, what=f"the store to count {expected}")

    praised, unfair, disputed = (
        reviewed(applicant, ended_case(applicant, worker, guide, "rejected"), grade, comment=text)
        for grade, text in ((5, "窗口服务热情"), (1, "和办事无关的抱怨"), (2, "排队太久"))
    )
    figures(before["reviews"] + 3, before["praise"] + 1)

    # The department replies in public, once.
    view = post(worker, f"/api/v1/reviews/{praised}/reply", {"reply": "感谢您的肯定"})
    assert view["reply"] == "感谢您的肯定" and view["replied_by"]
    post(worker, f"/api/v1/reviews/{praised}/reply", {"reply": "再次感谢"}, expect=409)

    # The department's admin appeals two reviews; a window clerk may not.
    post(worker, f"/api/v1/reviews/{unfair}/appeal", {"reason": "与办件无关"}, expect=403)
    appeal_unfair = post(admin, f"/api/v1/reviews/{unfair}/appeal", {"reason": "与办件无关"}, 201)
    appeal_disputed = post(
        admin, f"/api/v1/reviews/{disputed}/appeal", {"reason": "已按时办结"}, 201
    )
    pending = {a["appeal_id"] for a in pages(the_operator, "/api/v1/appeals", state="pending")}
    assert {appeal_unfair["appeal_id"], appeal_disputed["appeal_id"]} <= pending
    mine = {a["appeal_id"]: a for a in pages(admin, "/api/v1/appeals")}
    assert mine[appeal_unfair["appeal_id"]]["review"]["review_id"] == unfair
    assert {a["department_code"] for a in mine.values()} == {"nj-rs"}

    # The operator upholds one and rejects the other, once each.
    decided = post(
        the_operator,
        f"/api/v1/appeals/{appeal_unfair['appeal_id']}/decision",
        {"uphold": True, "comment": "经核实，评价与办件无关，予以剔除"},
    )
    assert decided["state"] == "upheld" and decided["review"]["excluded"] is True
    decided = post(
        the_operator,
        f"/api/v1/appeals/{appeal_disputed['appeal_id']}/decision",
        {"uphold": False, "comment": "评价属实，维持"},
    )
    assert decided["state"] == "rejected" and decided["review"]["excluded"] is False
    post(
        the_operator,
        f"/api/v1/appeals/{appeal_disputed['appeal_id']}/decision",
        {"uphold": True, "comment": "改判"},
        expect=409,
    )
    post(admin, f"/api/v1/reviews/{disputed}/appeal", {"reason": "再次申诉"}, expect=409)

    # The excluded review leaves the rates and the public board...
    shown = figures(before["reviews"] + 2, before["praise"] + 1)
    assert shown[0]["bad"] == before["bad"] + 1
    public = {r["review_id"]: r for r in board(anyone, store_id)["items"]}
    assert unfair not in public
    assert public[praised]["reply"] == "感谢您的肯定" and public[praised]["reviewer"] == "王*"
    assert public[disputed]["grade"] == 2 and public[disputed]["reply"] is None

    # ...and stays on record for staff, as does the rejected appeal.
    kept = {r["review_id"]: r for r in pages(worker, "/api/v1/reviews", appealed="true")}
    assert (kept[unfair]["excluded"], kept[unfair]["appeal_state"]) == (True, "upheld")
    assert (kept[disputed]["excluded"], kept[disputed]["appeal_state"]) == (False, "rejected")
    assert praised not in kept
    assert praised in {r["review_id"] for r in pages(worker, "/api/v1/reviews", appealed="false")}

    # The upheld appeal closed the review's rectification; the other stays open.
    closed = rectification_of(worker, unfair)
    assert (closed["state"], closed["outcome"]) == ("closed_for_appeal", "appeal_upheld")
    assert rectification_of(worker, disputed)["state"] == "awaiting_verification"


def test_a_window_visit_is_rated_once_by_the_sms_link_or_at_the_terminal(
    cluster, the_operator, sms
):
    base = cluster.gateway_url
    clerk = staff(the_operator, "jn-xzsp", "window_clerk", name="江宁窗口")
    guide = item(clerk, VISITED)

    # With a phone: the rating link goes out by SMS.
    phone = new_phone()
    recorded = datetime.now(UTC)
    visit = record_visit(clerk, guide, phone)
    expires = datetime.fromisoformat(visit["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - recorded - timedelta(days=7)) < timedelta(minutes=1)
    [text] = sms.wait_for(phone)
    link = re.search(r"/rate\?token=([A-Za-z0-9_-]+)", text["text"])
    assert link, text
    token = link.group(1)
    assert token == visit["token"]
    assert text["text"].startswith("【一网通办】")

    onsite = {"efficiency": 5, "competence": 4, "attitude": 5}
    response = rate_visit(base, token, 5, "sms", comment="窗口人员很耐心", indicators=onsite)
    assert response.status_code == 201, response.text
    by_sms = response.json()["review_id"]
    response = rate_visit(base, token, 1, "sms", comment="再评一次")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "token_used"

    # Without a phone: rated at the window's terminal with the answer's token.
    visit = record_visit(clerk, guide)
    response = rate_visit(base, visit["token"], 4, "window")
    assert response.status_code == 201, response.text
    at_window = response.json()["review_id"]
    assert rate_visit(base, visit["token"], 4, "window").status_code == 409
    assert rate_visit(base, "x" * 32, 4, "window").status_code == 404
    # An online sub-grade is not one of a visit's.
    other = record_visit(clerk, guide)
    response = rate_visit(base, other["token"], 4, "window", indicators={"usability": 4})
    assert response.status_code == 422, response.text
    assert "indicators.usability" in response.json()["error"]["fields"]

    # Staff see both, anonymous, with the visit and the channel.
    listed = {r["review_id"]: r for r in pages(clerk, "/api/v1/reviews")}
    sms_review, window_review = listed[by_sms], listed[at_window]
    assert (sms_review["channel"], sms_review["reviewer"], sms_review["real_name"]) == (
        "sms",
        "匿名",
        True,
    )
    assert sms_review["indicators"] == onsite and sms_review["application_id"] is None
    assert sms_review["visit_id"] and sms_review["item_id"] == guide["item_id"]
    assert (window_review["channel"], window_review["real_name"]) == ("window", False)
    assert window_review["visit_id"] == visit["visit_id"]


def test_the_indicators_of_an_item_match_a_count_by_hand(cluster, the_operator, applicant):
    base = cluster.gateway_url
    worker = staff(the_operator, "ks-xzsp", "window_clerk", "approver", name="昆山窗口")
    guide = item(applicant, COUNTED)

    # Evaluable: 4 ended cases and 2 window visits.
    first, second = (ended_case(applicant, worker, guide, "completed") for _ in range(2))
    denied = ended_case(applicant, worker, guide, "denied")
    ended_case(applicant, worker, guide, "rejected")  # never reviewed
    rated_visit = record_visit(worker, guide, new_phone())
    record_visit(worker, guide)  # never rated

    # Reviews: 5 (praise), 2 (bad, real name), 3, and the visit's 4 (praise).
    reviewed(applicant, first, 5, indicators={"overall": 5, "efficiency": 4})
    bad = reviewed(applicant, second, 2, comment="材料要求前后不一")
    reviewed(applicant, denied, 3, channel="app", indicators={"efficiency": 2})
    response = rate_visit(
        base, rated_visit["token"], 4, "window", indicators={"efficiency": 5, "attitude": 4}
    )
    assert response.status_code == 201, response.text

    # The bad review: rectified at once, the citizen called back and satisfied.
    path = f"/api/v1/rectifications/{rectification_of(worker, bad)['rectification_id']}"
    view = post(worker, f"{path}/verify", {"decision": "immediate", "plan": "已统一材料清单"})
    assert view["state"] == "resolved"
    post(worker, f"{path}/return-visit", {"reached": True, "satisfied": True})

    expected = {
        "evaluable": 6,
        "reviews": 4,
        "praise": 2,
        "bad": 1,
        "rectified": 1,
        "real_name_bad": 1,
        "called_back": 1,
        "evaluation_rate": 0.6667,  # 4 / 6
        "praise_rate": 0.5,
        "bad_rate": 0.25,
        "rectification_rate": 1.0,
        "callback_rate": 1.0,
        "average_grade": 3.5,  # (5 + 2 + 3 + 4) / 4
        "sub_grades": {"overall": 5.0, "efficiency": 3.67, "attitude": 4.0},  # efficiency 11 / 3
    }
    anyone = Client(base)
    stats = eventually(
        lambda: (s := rating_stats(anyone, item=guide["item_id"]))["overall"] == expected and s,
        timeout=20,
        what="the item's indicators to match the hand count",
    )
    assert stats == {
        "store": None,
        "department": None,
        "region": None,
        "item": guide["item_id"],
        "from": None,
        "to": None,
        "overall": expected,
        "escalations": None,
        "stores": [{"store_id": guide["store_id"], "rating": expected}],
        "departments": [{"department_code": "ks-xzsp", "rating": expected, "escalations": None}],
        "items": [{"item_id": guide["item_id"], "item_name": guide["name"], "rating": expected}],
        "regions": [{"region_code": "320583", "rating": expected}],
    }


def test_denied_and_rejected_cases_are_reviewed_within_thirty_days_of_their_end(
    cluster, clock, the_operator, applicant
):
    worker = staff(the_operator, "sz-jt", "window_clerk", "approver", name="苏州交通窗口")
    guide = item(applicant, LATE)
    denied = ended_case(applicant, worker, guide, "denied")
    rejected = ended_case(applicant, worker, guide, "rejected")
    reviewed(applicant, denied, 2, comment="不予许可的理由说得很清楚，但材料退回慢")
    reviewed(applicant, rejected, 4, comment="一次告知了缺什么")
    # Neither a second review, nor one by someone else.
    assert review(applicant, denied, 5).status_code == 409
    stranger, _ = citizen(cluster.gateway_url, "赵六")
    assert review(stranger, rejected, 5).status_code == 403

    # Two more cases end today: one is reviewed on the 30th day after, the
    # other on the 31st, too late.
    on_time, too_late = (end(worker, submit(applicant, guide), "rejected") for _ in range(2))
    ended_on = day_of(on_time["timeline"][-1]["at"])
    assert day_of(too_late["timeline"][-1]["at"]) == ended_on
    clock.move_to(ended_on + timedelta(days=30))
    reviewed(applicant, on_time["application_id"], 3)
    clock.move_to(ended_on + timedelta(days=31))
    response = review(applicant, too_late["application_id"], 3)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "review_window_closed"


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
