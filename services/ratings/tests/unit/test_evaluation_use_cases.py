"""Evaluation use cases on a real SQLite unit of work: ended cases become
reviewable, reviews, the public board, the staff list and public replies."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from services.common import testing
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import assert_documented, citizen, operator, outbox, staff
from services.ratings import contract
from services.ratings.domain.indicators import IndicatorSummary
from services.ratings.domain.model import EvaluationPolicy, ReviewableCase
from services.ratings.service_layer import indicators, use_cases
from services.workflow import contract as workflow

from .conftest import DEPARTMENT, NOW, ended_envelope, ended_payload

APPLICANT = citizen("u-applicant", name="张三", level=2)
PRINCIPAL = citizen("u-principal", name="李四", level=1)
ADMIN = staff("u-admin", DEPARTMENT, "dept_admin")
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
OTHER = "320500-MSA"
OTHER_ADMIN = staff("u-other-admin", OTHER, "dept_admin")
OPERATOR = operator("u-operator")


def delivered(envelope):
    """The envelope as it arrives (the use case takes the payload loaded or not)."""
    return envelope


def end(uow, **payload):
    assert use_cases.record_ended_case(uow, delivered(ended_envelope(**payload)))


def recorded_without_principal(uow):
    """The case as ratings recorded it from workflow's ``application_completed``
    before ``application_ended`` alone made cases reviewable: no principal."""
    with uow:
        uow.cases.add(ReviewableCase.from_application_ended(ended_payload()))
        uow.commit()


def review(uow, application_id="app-1", grade=5, actor=APPLICANT, now=NOW, **kwargs):
    return use_cases.submit_review(uow, actor, application_id, grade, now=now, **kwargs)


def rows(uow, table_name):
    table = uow.metadata.tables[table_name]
    with uow:
        return [dict(row) for row in uow.session.execute(sa.select(table)).mappings()]


# --- application_ended --------------------------------------------------------


def test_an_ended_case_becomes_reviewable(uow):
    end(uow, principal_id="u-principal", handled_by="320100-GA", outcome="denied")

    with uow:
        case = uow.cases.get("app-1")
    assert (case.principal_id, case.handled_by, case.outcome) == (
        "u-principal",
        "320100-GA",
        "denied",
    )
    assert case.reviewed is False


@pytest.mark.parametrize("outcome", ["withdrawn", "not_supplemented"])
def test_a_case_that_is_not_evaluable_is_handled_and_not_recorded(uow, outcome):
    event = delivered(ended_envelope(outcome=outcome))

    assert use_cases.record_ended_case(uow, event) is False
    assert use_cases.record_ended_case(uow, event) is False

    assert rows(uow, "reviewable_cases") == []
    assert len(rows(uow, "handled_events")) == 1


def test_the_same_ended_event_twice_records_one_case(uow):
    event = delivered(ended_envelope())

    assert use_cases.record_ended_case(uow, event) is True
    assert use_cases.record_ended_case(uow, event) is False

    assert len(rows(uow, "reviewable_cases")) == 1


def test_a_case_recorded_without_its_principal_learns_it_from_the_ended_event(uow):
    recorded_without_principal(uow)

    recorded = use_cases.record_ended_case(
        uow, delivered(ended_envelope(principal_id="u-principal"))
    )

    assert recorded is False
    [case] = rows(uow, "reviewable_cases")
    assert case["principal_id"] == "u-principal"
    assert len(rows(uow, "handled_events")) == 1


def test_a_case_recorded_meanwhile_is_learned_from_on_a_second_try(uow, monkeypatch):
    """Another delivery inserted the case after this one looked for it (no row
    to lock): the insert fails, and this one does it again and learns."""
    recorded_without_principal(uow)
    looked = []
    get = type(uow.cases).get

    def not_yet_there(self, application_id, for_update=False):
        looked.append(application_id)
        return None if len(looked) == 1 else get(self, application_id, for_update)

    monkeypatch.setattr(type(uow.cases), "get", not_yet_there)

    recorded = use_cases.record_ended_case(
        uow, delivered(ended_envelope(principal_id="u-principal"))
    )

    assert recorded is False and len(looked) == 2
    [case] = rows(uow, "reviewable_cases")
    assert case["principal_id"] == "u-principal"
    assert len(rows(uow, "handled_events")) == 1


def test_two_deliveries_of_one_event_at_once_record_the_case_once(uow, monkeypatch):
    """The other delivery marked the event handled after this one checked: its
    mark fails, and this one, again, sees the event handled and skips."""
    event = delivered(ended_envelope())
    assert use_cases.record_ended_case(uow, event) is True
    checked = []
    first_delivery = type(uow).first_delivery

    def passed_the_check(self, envelope, consumer):
        checked.append(consumer)
        if len(checked) > 1:
            return first_delivery(self, envelope, consumer)
        handled = self.metadata.tables["handled_events"]
        self.session.execute(
            handled.insert().values(event_id=envelope["id"], consumer=consumer, handled_at=NOW)
        )
        return True

    monkeypatch.setattr(type(uow), "first_delivery", passed_the_check)

    assert use_cases.record_ended_case(uow, event) is False

    assert len(checked) == 2
    assert len(rows(uow, "reviewable_cases")) == 1
    assert len(rows(uow, "handled_events")) == 1


def test_a_reviewed_case_stays_reviewed_when_it_learns_its_principal(uow):
    recorded_without_principal(uow)
    review(uow)

    use_cases.record_ended_case(uow, delivered(ended_envelope(principal_id="u-principal")))

    with uow:
        case = uow.cases.get("app-1")
    assert (case.reviewed, case.principal_id) == (True, "u-principal")


def test_an_ended_event_missing_what_a_review_needs_is_invalid_and_not_handled(uow):
    with pytest.raises(Invalid) as caught:
        use_cases.record_ended_case(uow, delivered(ended_envelope(handled_by="")))

    assert set(caught.value.fields) == {"handled_by"}
    assert rows(uow, "handled_events") == []


def test_an_ended_event_as_the_handler_loads_it_is_taken(uow):
    event = testing.delivered(ended_envelope(outcome="rejected"), workflow.ApplicationEnded)

    assert use_cases.record_ended_case(uow, event) is True

    with uow:
        assert uow.cases.get("app-1").outcome == "rejected"


def test_an_ended_envelope_without_an_id_is_invalid(uow):
    event = delivered(ended_envelope())
    del event["id"]

    with pytest.raises(Invalid) as caught:
        use_cases.record_ended_case(uow, event)

    assert set(caught.value.fields) == {"id"}


# --- submit_review -------------------------------------------------------------


def test_the_principal_reviews_the_case_with_sub_grades(uow):
    end(uow, principal_id="u-principal")

    submitted = review(
        uow, actor=PRINCIPAL, grade=4, comment="办得快", channel="app", indicators={"overall": 4}
    )

    with uow:
        stored = uow.reviews.get(submitted.review_id)
    assert (stored.reviewer_id, stored.reviewer_name, stored.real_name) == (
        "u-principal",
        "李*",
        False,
    )
    assert (stored.channel, stored.indicators, stored.comment) == ("app", {"overall": 4}, "办得快")
    assert "李四" not in str(rows(uow, "reviews"))


def test_a_review_emits_review_submitted_with_the_contract_payload(uow):
    end(uow)

    submitted = review(uow, grade=4, indicators={"efficiency": 5})

    [event] = outbox(uow)
    assert event["payload"] == {
        "review_id": submitted.review_id,
        "application_id": "app-1",
        "visit_id": None,
        "store_id": "store-1",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "item_id": "item-1",
        "item_name": "Food business licence",
        "grade": 4,
        "channel": "web",
        "real_name": True,
        "indicators": {"efficiency": 5},
        "submitted_at": "2026-11-25T08:00:00Z",
    }
    assert_documented(contract.ReviewSubmitted, event["payload"])


def test_a_review_no_longer_counts_in_the_old_rating_totals(uow):
    end(uow)
    review(uow)

    # The indicators count reviews from their events; the old totals are gone.
    assert "rating_totals" not in uow.metadata.tables


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_opens_a_rectification_for_the_department_that_handled_the_case(uow, grade):
    end(uow, handled_by="320100-GA", outcome="denied")

    submitted = review(uow, grade=grade, comment="理由不清")

    [rectification] = rows(uow, "rectifications")
    assert rectification["review_id"] == submitted.review_id
    assert rectification["department_code"] == "320100-GA"
    assert rectification["application_id"] == "app-1"
    assert rectification["verify_due"] == date(2026, 11, 26)
    envelopes = outbox(uow)
    assert [e["type"] for e in envelopes] == ["review_submitted", "bad_review_flagged"]
    assert envelopes[1]["payload"] == {
        "review_id": submitted.review_id,
        "rectification_id": rectification["rectification_id"],
        "application_id": "app-1",
        "department_code": "320100-GA",
        "grade": grade,
        "verify_due": "2026-11-26",
    }
    for envelope in envelopes:
        assert_documented(contract.EVENTS[envelope["type"]], envelope["payload"])


def test_the_rectification_deadline_counts_the_provinces_calendar(uow):
    # Reviewed on the eve of the National Day week: verified by the 8th.
    end(uow, ended_at="2026-09-29T02:00:00Z")

    review(uow, grade=1, now=NOW.replace(month=9, day=30))

    assert rows(uow, "rectifications")[0]["verify_due"] == date(2026, 10, 8)


def test_a_review_after_the_window_is_a_conflict_and_changes_nothing(uow):
    end(uow)  # ended 2026-11-24: reviewable until 2026-12-24 (China)

    with pytest.raises(Conflict) as caught:
        review(uow, now=NOW + timedelta(days=30))

    assert caught.value.code == "review_window_closed"
    assert rows(uow, "reviews") == []
    assert outbox(uow) == []
    with uow:
        assert uow.cases.get("app-1").reviewed is False


def test_the_window_is_the_policys(uow):
    end(uow)

    with pytest.raises(Conflict):
        review(uow, now=NOW + timedelta(days=3), policy=EvaluationPolicy(review_window_days=2))
    assert review(uow, now=NOW + timedelta(days=30), policy=EvaluationPolicy(review_window_days=31))


def test_a_case_ratings_has_not_heard_of_has_not_ended(uow):
    with pytest.raises(Conflict) as caught:
        review(uow, application_id="app-unknown")

    assert (caught.value.code, caught.value.message) == ("conflict", "the case has not ended yet")


def test_a_case_is_reviewed_once_by_applicant_or_principal(uow):
    end(uow, principal_id="u-principal")
    review(uow)

    with pytest.raises(Conflict) as caught:
        review(uow, actor=PRINCIPAL, grade=1)

    assert caught.value.code == "already_reviewed"
    assert len(rows(uow, "reviews")) == 1


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"channel": "sms"}, {"channel"}),
        ({"indicators": {"attitude": 5}}, {"indicators.attitude"}),
        ({"indicators": {"overall": 9}, "grade": 0}, {"indicators.overall", "grade"}),
    ],
)
def test_a_bad_review_is_invalid_naming_the_fields_and_changes_nothing(uow, kwargs, fields):
    end(uow)

    with pytest.raises(Invalid) as caught:
        review(uow, **kwargs)

    assert set(caught.value.fields) == fields
    assert rows(uow, "reviews") == []


# --- the public board ----------------------------------------------------------


def seed_store(uow, grades, store_id="store-1"):
    reviews = []
    for number, grade in enumerate(grades):
        application_id = f"{store_id}-app-{number}"
        applicant = citizen(f"u-{number:04d}", name=f"王{number}号")
        end(
            uow, application_id=application_id, applicant_id=applicant["user_id"], store_id=store_id
        )
        reviews.append(
            review(
                uow,
                application_id=application_id,
                grade=grade,
                actor=applicant,
                now=NOW + timedelta(minutes=number),
            )
        )
    return reviews


def test_the_board_shows_a_stores_reviews_newest_first_masked_with_replies(uow):
    oldest, middle, newest = seed_store(uow, [5, 3, 4])
    seed_store(uow, [1], store_id="store-2")
    use_cases.reply_to_review(uow, ADMIN, oldest.review_id, "感谢", now=NOW + timedelta(hours=1))

    first = use_cases.list_store_reviews(uow, "store-1", page=1, page_size=2)
    last = use_cases.list_store_reviews(uow, "store-1", page=2, page_size=2)

    assert [r.review_id for r in first["items"]] == [newest.review_id, middle.review_id]
    assert [r.review_id for r in last["items"]] == [oldest.review_id]
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    dumped = contract.StoreReviews().dump(last)
    assert_documented(contract.StoreReviews, dumped)
    [shown] = dumped["items"]
    assert shown["reviewer"] == "王**"
    assert (shown["reply"], shown["replied_at"]) == ("感谢", "2026-11-25T09:00:00Z")
    assert {"reviewer_id", "application_id", "visit_id", "excluded"}.isdisjoint(shown)


def test_the_boards_summary_is_the_stores_published_indicators(uow):
    [praised] = seed_store(uow, [5])
    for envelope in outbox(uow):
        indicators.count_review_submitted(uow, envelope)

    page = use_cases.list_store_reviews(uow, "store-1", page=1, page_size=20)

    assert isinstance(page["summary"], IndicatorSummary)
    dumped = contract.StoreReviews().dump(page)
    assert_documented(contract.StoreReviews, dumped)
    assert dumped["summary"]["reviews"] == 1
    assert dumped["summary"]["praise_rate"] == 1.0
    assert dumped["items"][0]["review_id"] == praised.review_id


def test_a_store_without_reviews_has_an_empty_board(uow):
    page = use_cases.list_store_reviews(uow, "store-none", page=1, page_size=20)

    dumped = contract.StoreReviews().dump(page)
    assert (dumped["items"], dumped["total"]) == ([], 0)
    assert dumped["summary"]["praise_rate"] is None
    assert_documented(contract.StoreReviews, dumped)


# --- the staff list and replies ------------------------------------------------


@pytest.fixture
def handled(uow):
    """Two reviews handled by DEPARTMENT, one by OTHER (newest last)."""
    made = []
    for number, department in enumerate([DEPARTMENT, OTHER, DEPARTMENT]):
        application_id = f"app-{number}"
        applicant = citizen(f"u-{number}", name="赵六")
        end(
            uow,
            application_id=application_id,
            applicant_id=applicant["user_id"],
            handled_by=department,
        )
        made.append(
            review(
                uow,
                application_id=application_id,
                grade=number + 1,
                actor=applicant,
                now=NOW + timedelta(minutes=number),
            )
        )
    return made


def ids(page):
    return [r.review_id for r in page["items"]]


@pytest.mark.parametrize("actor", [ADMIN, CLERK], ids=["dept-admin", "window-clerk"])
def test_staff_list_the_reviews_their_department_answers_for(uow, handled, actor):
    page = use_cases.list_reviews(uow, actor, page=1, page_size=20)

    assert ids(page) == [handled[2].review_id, handled[0].review_id]
    assert page["total"] == 2
    dumped = contract.ReviewPage().dump(page)
    assert_documented(contract.ReviewPage, dumped)
    assert dumped["items"][0]["handled_by"] == DEPARTMENT
    assert dumped["items"][0]["appeal_state"] is None


def test_an_operator_lists_every_review_or_one_departments(uow, handled):
    assert use_cases.list_reviews(uow, OPERATOR, page=1, page_size=2)["total"] == 3
    assert ids(use_cases.list_reviews(uow, OPERATOR, 1, 20, department=OTHER)) == [
        handled[1].review_id
    ]


def test_staff_naming_their_own_department_is_fine_and_another_forbidden(uow, handled):
    assert use_cases.list_reviews(uow, ADMIN, 1, 20, department=DEPARTMENT)["total"] == 2
    with pytest.raises(Forbidden):
        use_cases.list_reviews(uow, ADMIN, 1, 20, department=OTHER)


@pytest.mark.parametrize(
    "actor",
    [APPLICANT, staff("u-approver", DEPARTMENT, "approver"), staff("u-x", None, "dept_admin")],
    ids=["citizen", "approver", "no-department"],
)
def test_no_one_else_lists_reviews(uow, handled, actor):
    with pytest.raises(Forbidden):
        use_cases.list_reviews(uow, actor, 1, 20)


def test_the_list_narrows_to_appealed_reviews_or_the_others(uow, handled):
    use_cases.file_appeal(uow, ADMIN, handled[0].review_id, "与事项无关", now=NOW)

    appealed = use_cases.list_reviews(uow, ADMIN, 1, 20, appealed=True)
    not_appealed = use_cases.list_reviews(uow, ADMIN, 1, 20, appealed=False)

    assert ids(appealed) == [handled[0].review_id]
    assert appealed["items"][0].appeal_state == "pending"
    assert ids(not_appealed) == [handled[2].review_id]


def test_staff_reply_once_and_the_reply_is_announced(uow, handled):
    replied = use_cases.reply_to_review(
        uow, CLERK, handled[0].review_id, "  已改进  ", now=NOW + timedelta(days=1)
    )

    assert replied.reply == "已改进"
    with uow:
        stored = uow.reviews.get(handled[0].review_id)
    assert (stored.reply, stored.replied_by, stored.replied_at) == (
        "已改进",
        "u-clerk",
        NOW + timedelta(days=1),
    )
    event = outbox(uow)[-1]
    assert event["type"] == "review_replied"
    assert event["payload"] == {
        "review_id": handled[0].review_id,
        "store_id": handled[0].store_id,
        "department_code": DEPARTMENT,
        "replied_at": "2026-11-26T08:00:00Z",
    }
    assert_documented(contract.ReviewView, contract.ReviewView().dump(replied))
    with pytest.raises(Conflict) as caught:
        use_cases.reply_to_review(uow, ADMIN, handled[0].review_id, "再答")
    assert caught.value.code == "already_replied"


def test_a_reply_for_another_department_is_forbidden(uow, handled):
    with pytest.raises(Forbidden):
        use_cases.reply_to_review(uow, OTHER_ADMIN, handled[0].review_id, "你好")

    with uow:
        assert uow.reviews.get(handled[0].review_id).reply is None


def test_replying_to_an_unknown_review_is_not_found(uow):
    with pytest.raises(NotFound) as caught:
        use_cases.reply_to_review(uow, ADMIN, "r-unknown", "你好")

    assert caught.value.fields == {"review_id": "not found"}
