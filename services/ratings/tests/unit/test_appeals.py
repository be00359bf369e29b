"""Appeals (申诉复核) on a real SQLite unit of work: a department admin appeals a
review it handled, the operator decides; upheld, the review is excluded and
its rectification closes."""

from datetime import timedelta

import pytest

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import assert_documented, citizen, operator, outbox, staff
from services.ratings import contract
from services.ratings.service_layer import use_cases

from .conftest import DEPARTMENT, NOW, ended_envelope

ADMIN = staff("u-admin", DEPARTMENT, "dept_admin")
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
OTHER = "320500-MSA"
OTHER_ADMIN = staff("u-other-admin", OTHER, "dept_admin")
OPERATOR = operator("u-operator")
LATER = NOW + timedelta(days=1)


def reviewed(uow, number=0, grade=1, department=DEPARTMENT, minutes=0):
    application_id = f"app-{number}"
    applicant = citizen(f"u-{number}", name="钱七")
    use_cases.record_ended_case(
        uow,
        ended_envelope(
            application_id=application_id,
            applicant_id=applicant["user_id"],
            handled_by=department,
        ),
    )
    return use_cases.submit_review(
        uow, applicant, application_id, grade, "乱评", now=NOW + timedelta(minutes=minutes)
    )


def appeal(uow, review, actor=ADMIN, reason="评价与本事项无关", now=NOW):
    return use_cases.file_appeal(uow, actor, review.review_id, reason, now=now)


def decide(uow, filed, uphold=True, actor=OPERATOR, comment="已核实", now=LATER):
    return use_cases.decide_appeal(uow, actor, filed.appeal_id, uphold, comment, now=now)


# --- filing -------------------------------------------------------------------


def test_the_department_admin_files_an_appeal(uow):
    review = reviewed(uow)

    filed = appeal(uow, review, reason="  评价与本事项无关  ")

    with uow:
        stored = uow.appeals.get(filed.appeal_id)
        assert uow.reviews.get(review.review_id).appeal_state == "pending"
    assert (stored.review_id, stored.department_code, stored.reason, stored.state) == (
        review.review_id,
        DEPARTMENT,
        "评价与本事项无关",
        "pending",
    )
    event = outbox(uow)[-1]
    assert event["type"] == "appeal_filed"
    assert event["payload"] == {
        "appeal_id": filed.appeal_id,
        "review_id": review.review_id,
        "department_code": DEPARTMENT,
        "filed_at": "2026-11-25T08:00:00Z",
    }
    assert_documented(contract.EVENTS["appeal_filed"], event["payload"])


def test_a_review_has_one_appeal(uow):
    review = reviewed(uow)
    filed = appeal(uow, review)

    with pytest.raises(Conflict) as pending:
        appeal(uow, review)
    decide(uow, filed, uphold=False)
    with pytest.raises(Conflict) as decided:
        appeal(uow, review)

    assert (pending.value.code, decided.value.code) == ("appeal_pending", "appeal_decided")


@pytest.mark.parametrize(
    "actor",
    [CLERK, OTHER_ADMIN, OPERATOR, citizen("u-0")],
    ids=["window-clerk", "other-department", "operator", "the-reviewer"],
)
def test_no_one_but_the_handling_departments_admin_appeals(uow, actor):
    review = reviewed(uow)

    with pytest.raises(Forbidden):
        appeal(uow, review, actor=actor)

    with uow:
        assert uow.reviews.get(review.review_id).appeal_state is None


def test_appealing_an_unknown_review_is_not_found(uow):
    with pytest.raises(NotFound) as caught:
        use_cases.file_appeal(uow, ADMIN, "r-unknown", "无关")

    assert caught.value.fields == {"review_id": "not found"}


def test_an_appeal_needs_a_reason(uow):
    review = reviewed(uow)

    with pytest.raises(Invalid) as caught:
        appeal(uow, review, reason=" ")

    assert set(caught.value.fields) == {"reason"}


# --- deciding -------------------------------------------------------------------


def test_an_upheld_appeal_excludes_the_review_and_closes_its_rectification(uow):
    review = reviewed(uow, grade=1)
    filed = appeal(uow, review)

    decided = decide(uow, filed, uphold=True, comment="  评价与办件无关  ")

    assert (decided.appeal.state, decided.appeal.decision_comment) == ("upheld", "评价与办件无关")
    assert decided.review.excluded is True
    with uow:
        stored = uow.reviews.get(review.review_id)
        rectification = uow.rectifications.for_review(review.review_id)
    assert (stored.excluded, stored.appeal_state) == (True, "upheld")
    assert (rectification.state, rectification.outcome) == ("closed_for_appeal", "appeal_upheld")
    assert rectification.closed_at == LATER
    envelopes = outbox(uow)
    assert [e["type"] for e in envelopes[-2:]] == ["appeal_decided", "rectification_closed"]
    assert envelopes[-2]["payload"] == {
        "appeal_id": filed.appeal_id,
        "review_id": review.review_id,
        "upheld": True,
        "decided_at": "2026-11-26T08:00:00Z",
    }
    for envelope in envelopes:
        assert_documented(contract.EVENTS[envelope["type"]], envelope["payload"])
    dumped = contract.Appeal().dump(decided)
    assert_documented(contract.Appeal, dumped)
    assert dumped["review"]["excluded"] is True


def test_an_excluded_review_leaves_the_board_and_stays_in_the_record(uow):
    kept = reviewed(uow, number=1, grade=5)
    review = reviewed(uow, grade=1, minutes=1)
    decide(uow, appeal(uow, review))

    board = use_cases.list_store_reviews(uow, "store-1", page=1, page_size=20)
    record = use_cases.list_reviews(uow, ADMIN, page=1, page_size=20)

    assert [r.review_id for r in board["items"]] == [kept.review_id]
    assert board["total"] == 1
    assert [r.review_id for r in record["items"]] == [review.review_id, kept.review_id]
    assert record["items"][0].excluded is True


def test_an_upheld_appeal_of_a_review_without_rectification_closes_nothing(uow):
    review = reviewed(uow, grade=3)

    decide(uow, appeal(uow, review))

    assert [e["type"] for e in outbox(uow)][-1] == "appeal_decided"


def test_an_upheld_appeal_leaves_a_closed_rectification_as_it_was(uow):
    review = reviewed(uow, grade=1)
    with uow:
        rectification = uow.rectifications.for_review(review.review_id, for_update=True)
        rectification.close_for_appeal(NOW)
        uow.rectifications.save(rectification)
        uow.commit()

    decide(uow, appeal(uow, review))

    with uow:
        assert uow.rectifications.for_review(review.review_id).closed_at == NOW
    assert [e["type"] for e in outbox(uow)][-1] == "appeal_decided"


def test_a_rejected_appeal_keeps_the_review_and_its_rectification(uow):
    review = reviewed(uow, grade=2)

    decided = decide(uow, appeal(uow, review), uphold=False)

    assert (decided.appeal.state, decided.review.excluded) == ("rejected", False)
    with uow:
        assert uow.rectifications.for_review(review.review_id).is_open
        assert uow.reviews.get(review.review_id).appeal_state == "rejected"
    assert outbox(uow)[-1]["payload"]["upheld"] is False
    assert use_cases.list_store_reviews(uow, "store-1", 1, 20)["total"] == 1


def test_an_appeal_is_decided_once(uow):
    filed = appeal(uow, reviewed(uow))
    decide(uow, filed)

    with pytest.raises(Conflict) as caught:
        decide(uow, filed, uphold=False)

    assert caught.value.code == "invalid_transition"


@pytest.mark.parametrize("actor", [ADMIN, OTHER_ADMIN, citizen("u-0")])
def test_only_an_operator_decides(uow, actor):
    filed = appeal(uow, reviewed(uow))

    with pytest.raises(Forbidden):
        decide(uow, filed, actor=actor)

    with uow:
        assert uow.appeals.get(filed.appeal_id).state == "pending"


def test_someone_not_an_operator_learns_nothing_of_an_unknown_appeal(uow):
    with pytest.raises(Forbidden):
        use_cases.decide_appeal(uow, ADMIN, "a-unknown", True, "好")
    with pytest.raises(NotFound) as caught:
        use_cases.decide_appeal(uow, OPERATOR, "a-unknown", True, "好")

    assert caught.value.fields == {"appeal_id": "not found"}


def test_a_decision_names_every_bad_field_and_changes_nothing(uow):
    filed = appeal(uow, reviewed(uow))

    with pytest.raises(Invalid) as caught:
        decide(uow, filed, uphold=None, comment="")

    assert set(caught.value.fields) == {"uphold", "comment"}
    with uow:
        assert uow.appeals.get(filed.appeal_id).state == "pending"


# --- lists ----------------------------------------------------------------------


@pytest.fixture
def appeals(uow):
    """Three appeals of DEPARTMENT (the first decided), one of OTHER."""
    filed = []
    for number, department in enumerate([DEPARTMENT, DEPARTMENT, OTHER, DEPARTMENT]):
        review = reviewed(uow, number=number, department=department)
        admin = ADMIN if department == DEPARTMENT else OTHER_ADMIN
        filed.append(appeal(uow, review, actor=admin, now=NOW + timedelta(minutes=number)))
    decide(uow, filed[0], uphold=True)
    return filed


def appeal_ids(page):
    return [view.appeal.appeal_id for view in page["items"]]


def test_the_operator_sees_every_appeal_pending_first_oldest_first(uow, appeals):
    page = use_cases.list_appeals(uow, OPERATOR, page=1, page_size=20)

    assert appeal_ids(page) == [
        a.appeal_id for a in (appeals[1], appeals[2], appeals[3], appeals[0])
    ]
    assert page["total"] == 4
    dumped = contract.AppealPage().dump(page)
    assert_documented(contract.AppealPage, dumped)
    assert dumped["items"][-1]["state"] == "upheld"
    assert dumped["items"][-1]["review"]["excluded"] is True
    assert dumped["items"][0]["decided_at"] is None


def test_appeals_are_narrowed_by_state_and_paged(uow, appeals):
    pending = use_cases.list_appeals(uow, OPERATOR, page=2, page_size=2, state="pending")
    upheld = use_cases.list_appeals(uow, OPERATOR, page=1, page_size=20, state="upheld")

    assert (appeal_ids(pending), pending["total"]) == ([appeals[3].appeal_id], 3)
    assert appeal_ids(upheld) == [appeals[0].appeal_id]
    assert use_cases.list_appeals(uow, OPERATOR, 1, 20, state="rejected")["items"] == []


def test_a_department_admin_sees_their_departments_appeals(uow, appeals):
    page = use_cases.list_appeals(uow, ADMIN, page=1, page_size=20)

    assert appeal_ids(page) == [a.appeal_id for a in (appeals[1], appeals[3], appeals[0])]
    assert appeal_ids(use_cases.list_appeals(uow, OTHER_ADMIN, 1, 20)) == [appeals[2].appeal_id]


@pytest.mark.parametrize(
    "actor",
    [CLERK, citizen("u-0"), staff("u-x", None, "dept_admin")],
    ids=["window-clerk", "citizen", "no-department"],
)
def test_no_one_else_lists_appeals(uow, appeals, actor):
    with pytest.raises(Forbidden):
        use_cases.list_appeals(uow, actor, 1, 20)
