"""Window visits (一次一评): recorded by a clerk, rated once with a one-time token."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import assert_documented, citizen, operator, outbox, staff
from services.common.working_calendar import WorkingCalendar
from services.ratings import contract
from services.ratings.domain.events import ReviewSubmitted, VisitRecorded
from services.ratings.domain.exceptions import (
    ItemNotRateable,
    NotPermitted,
    TokenExpired,
    TokenUsed,
    ValidationFailed,
)
from services.ratings.domain.model import ANONYMOUS, Visit, hash_token
from services.ratings.service_layer import use_cases

from .conftest import DEPARTMENT, NOW, catalog_item

CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
PHONE = "13800000001"
PORTAL = "https://zwfw.jiangsu.gov.cn"


def record(phone=PHONE, actor=CLERK, now=NOW, **item):
    return Visit.record(actor, catalog_item(**item), phone, now)


# --- the visit, in the domain ----------------------------------------------------


def test_a_window_clerk_records_a_visit_with_a_one_time_token():
    visit, token = record()

    assert len(token) == 32
    assert visit.token_hash == hash_token(token)
    assert token not in repr(visit)
    assert (visit.item_id, visit.item_name, visit.store_id) == (
        "item-1",
        "Food business licence",
        "store-1",
    )
    assert (visit.department_code, visit.region_code, visit.recorded_by) == (
        DEPARTMENT,
        "320102",
        "u-clerk",
    )
    assert visit.phone_masked == "138****0001"
    assert (visit.recorded_at, visit.expires_at) == (NOW, NOW + timedelta(days=7))
    assert visit.review_id is None
    assert visit.events == [
        VisitRecorded(
            visit_id=visit.visit_id,
            store_id="store-1",
            department_code=DEPARTMENT,
            region_code="320102",
            item_id="item-1",
            item_name="Food business licence",
            recorded_at=NOW,
        )
    ]


def test_tokens_differ_from_visit_to_visit():
    assert record()[1] != record()[1]


def test_a_visit_without_a_phone_is_rated_at_the_window_only():
    visit, _ = record(phone=None)

    assert visit.phone_masked is None


def test_the_token_lasts_the_days_set():
    visit, _ = Visit.record(CLERK, catalog_item(), PHONE, NOW, token_days=1)

    assert visit.expires_at == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    "actor",
    [
        staff("u-admin", DEPARTMENT, "dept_admin"),
        staff("u-clerk", None, "window_clerk"),
        operator(),
        citizen(),
        None,
    ],
    ids=["dept-admin", "no-department", "operator", "citizen", "none"],
)
def test_only_a_window_clerk_records_a_visit(actor):
    with pytest.raises(NotPermitted):
        record(actor=actor)


@pytest.mark.parametrize("phone", ["12800000001", "138-0000-0001", "", 13800000001])
def test_a_phone_given_is_a_mainland_mobile_number(phone):
    with pytest.raises(ValidationFailed) as caught:
        record(phone=phone)

    assert set(caught.value.fields) == {"phone"}


@pytest.mark.parametrize(
    ("item", "fields"),
    [
        ({"status": "draft"}, {"item_id": "not published"}),
        ({"status": "retired"}, {"item_id": "not published"}),
        ({"store_id": None}, {"item_id": "has no flagship store"}),
        ({"region_code": ""}, {"item.region_code": "must be a non-empty string"}),
    ],
)
def test_an_item_that_cannot_be_rated_is_a_conflict(item, fields):
    with pytest.raises(ItemNotRateable) as caught:
        record(**item)

    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "item_not_rateable"
    assert caught.value.fields == fields


def test_the_invitation_links_to_the_rating_page_with_the_token():
    visit, token = record(name="食品经营许可证核发")

    text = visit.invitation(token, PORTAL + "/")

    assert f"{PORTAL}/rate?token={token} " in text
    assert "“食品经营许可证核发”" in text
    assert "12月2日16:00前有效" in text  # 08:00 UTC + 7 days, in Nanjing


def test_a_long_item_name_is_cut_and_the_text_stays_one_message():
    visit, token = record(name="食品经营许可证" * 28)

    text = visit.invitation(token, PORTAL)

    assert "“食品经营许可证食品经营许可证食品经营许…”" in text
    assert len(text) <= 140  # two SMS segments


def test_the_citizen_rates_a_visit_anonymously_once():
    visit, _ = record()
    later = NOW + timedelta(minutes=5)

    review = visit.review(5, " 很耐心 ", later, channel="sms", indicators={"attitude": 5})

    assert (review.visit_id, review.application_id, review.reviewer_id) == (
        visit.visit_id,
        None,
        None,
    )
    assert (review.reviewer_name, review.real_name, review.channel) == (ANONYMOUS, True, "sms")
    assert (review.comment, review.indicators) == ("很耐心", {"attitude": 5})
    assert review.handled_by == review.department_code == DEPARTMENT
    assert visit.review_id == review.review_id
    assert review.events == [
        ReviewSubmitted(
            review_id=review.review_id,
            application_id=None,
            visit_id=visit.visit_id,
            store_id="store-1",
            department_code=DEPARTMENT,
            region_code="320102",
            item_id="item-1",
            item_name="Food business licence",
            grade=5,
            channel="sms",
            real_name=True,
            indicators={"attitude": 5},
            submitted_at=later,
        )
    ]
    with pytest.raises(TokenUsed) as caught:
        visit.review(1, "", later, channel="window")
    assert caught.value.code == "token_used"


def test_a_visit_without_a_phone_gives_an_anonymous_review_not_real_name():
    visit, _ = record(phone=None)

    assert visit.review(4, "", NOW, channel="window").real_name is False


def test_a_token_expires_after_its_days():
    visit, _ = record()

    assert visit.review(4, "", visit.expires_at - timedelta(seconds=1), channel="window")
    visit, _ = record()
    with pytest.raises(TokenExpired) as caught:
        visit.review(4, "", visit.expires_at, channel="window")
    assert caught.value.code == "token_expired"
    assert visit.review_id is None


def test_every_bad_field_of_a_visit_review_is_named():
    visit, _ = record()

    with pytest.raises(ValidationFailed) as caught:
        visit.review(
            6,
            "长" * 501,
            NOW,
            channel="web",
            indicators={"overall": 5, "competence": 0, "attitude": 4},
        )

    assert set(caught.value.fields) == {
        "grade",
        "comment",
        "channel",
        "indicators.overall",
        "indicators.competence",
    }
    assert visit.review_id is None


def test_a_clerk_of_another_department_records_no_visit_of_the_item():
    # Else a clerk could hand out ratings of a store not theirs.
    with pytest.raises(NotPermitted):
        record(actor=staff("u-clerk-ga", "320100-GA", "window_clerk"))


def test_a_bad_review_of_a_visit_opens_a_rectification_of_the_visit():
    visit, _ = record(
        actor=staff("u-clerk-ga", "320100-GA", "window_clerk"), department_code="320100-GA"
    )
    review = visit.review(1, "排队太久", NOW, channel="window")

    rectification = review.open_rectification(NOW, WorkingCalendar())

    assert (rectification.visit_id, rectification.application_id) == (visit.visit_id, None)
    assert rectification.department_code == "320100-GA"


# --- record_visit and review_visit, on a unit of work --------------------------------


class Catalog:
    """catalog's ``get_item``, as the service passes it to the use case."""

    def __init__(self, **item):
        self.item = catalog_item(**item)
        self.asked = []

    def __call__(self, item_id):
        self.asked.append(item_id)
        if item_id != self.item["item_id"]:
            raise NotFound(f"no item {item_id}", {"item_id": "unknown item"})
        return self.item


def record_visit(uow, phone=PHONE, actor=CLERK, catalog=None, now=NOW, item_id="item-1"):
    return use_cases.record_visit(
        uow,
        catalog or Catalog(),
        actor,
        item_id,
        phone,
        now=now,
        portal_url=PORTAL,
    )


def rows(uow, table_name):
    table = uow.metadata.tables[table_name]
    with uow:
        return [dict(row) for row in uow.session.execute(sa.select(table)).mappings()]


def test_recording_a_visit_answers_the_token_and_keeps_only_its_hash(uow):
    catalog = Catalog()

    answer = record_visit(uow, catalog=catalog)

    assert catalog.asked == ["item-1"]
    assert answer["expires_at"] == NOW + timedelta(days=7)
    [row] = rows(uow, "visits")
    assert row["visit_id"] == answer["visit_id"]
    assert row["token_hash"] == hash_token(answer["token"])
    assert answer["token"] not in str(row)
    assert PHONE not in str(row)
    assert row["phone_masked"] == "138****0001"
    assert_documented(contract.VisitRecorded, contract.VisitRecorded().dump(answer))


def test_the_rating_link_is_queued_by_sms_in_the_same_transaction(uow):
    answer = record_visit(uow)

    with uow:
        message = uow.sms.get(answer["visit_id"])
    assert message.phone == PHONE
    assert f"{PORTAL}/rate?token={answer['token']}" in message.text


def test_no_phone_no_sms(uow):
    answer = record_visit(uow, phone=None)

    with uow:
        assert uow.sms.get(answer["visit_id"]) is None
    assert rows(uow, "visits")[0]["phone_masked"] is None


def test_visit_recorded_carries_no_phone_and_no_token(uow):
    answer = record_visit(uow)

    [event] = outbox(uow)
    assert event["type"] == "visit_recorded"
    assert event["payload"] == {
        "visit_id": answer["visit_id"],
        "store_id": "store-1",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "item_id": "item-1",
        "item_name": "Food business licence",
        "recorded_at": "2026-11-25T08:00:00Z",
    }
    assert_documented(contract.EVENTS["visit_recorded"], event["payload"])


def test_someone_not_a_window_clerk_is_refused_before_the_catalogue_is_asked(uow):
    catalog = Catalog()

    with pytest.raises(Forbidden):
        record_visit(uow, actor=staff("u-admin", DEPARTMENT, "dept_admin"), catalog=catalog)

    assert catalog.asked == []
    assert rows(uow, "visits") == []


def test_an_unknown_item_is_not_found_and_records_nothing(uow):
    with pytest.raises(NotFound):
        record_visit(uow, item_id="item-unknown")

    assert rows(uow, "visits") == []
    assert outbox(uow) == []


def test_an_unpublished_item_records_nothing(uow):
    with pytest.raises(Conflict):
        record_visit(uow, catalog=Catalog(status="retired"))

    assert rows(uow, "visits") == []


def review_visit(uow, token, grade=5, channel="window", now=NOW, **kwargs):
    return use_cases.review_visit(uow, token, grade, channel=channel, now=now, **kwargs)


def test_the_citizen_rates_the_visit_with_the_token(uow):
    answer = record_visit(uow)

    review = review_visit(
        uow, answer["token"], 4, comment="还不错", indicators={"efficiency": 4, "competence": 5}
    )

    with uow:
        stored = uow.reviews.get(review.review_id)
        visit = uow.visits.get(answer["visit_id"])
    assert (stored.visit_id, stored.application_id) == (answer["visit_id"], None)
    assert (stored.reviewer_name, stored.real_name) == (ANONYMOUS, True)
    assert stored.indicators == {"efficiency": 4, "competence": 5}
    assert visit.review_id == review.review_id
    event = outbox(uow)[-1]
    assert event["type"] == "review_submitted"
    assert event["payload"]["visit_id"] == answer["visit_id"]
    assert event["payload"]["application_id"] is None
    assert event["payload"]["channel"] == "window"
    assert_documented(contract.EVENTS["review_submitted"], event["payload"])


def test_a_token_rates_once(uow):
    token = record_visit(uow)["token"]
    review_visit(uow, token)

    with pytest.raises(Conflict) as caught:
        review_visit(uow, token, 1, channel="sms")

    assert caught.value.code == "token_used"
    assert len(rows(uow, "reviews")) == 1
    assert rows(uow, "rectifications") == []


@pytest.mark.parametrize("token", ["not-a-token", "x" * 128, None])
def test_an_unknown_token_is_not_found_naming_it(uow, token):
    record_visit(uow)

    with pytest.raises(NotFound) as caught:
        review_visit(uow, token)

    assert caught.value.fields == {"token": "not found"}


def test_an_expired_token_is_refused(uow):
    token = record_visit(uow)["token"]

    with pytest.raises(Conflict) as caught:
        review_visit(uow, token, now=NOW + timedelta(days=7))

    assert caught.value.code == "token_expired"
    assert rows(uow, "reviews") == []


def test_a_bad_visit_review_opens_a_rectification_for_the_visits_department(uow):
    answer = record_visit(
        uow,
        actor=staff("u-clerk-ga", "320100-GA", "window_clerk"),
        catalog=Catalog(department_code="320100-GA"),
    )

    review = review_visit(uow, answer["token"], 2, comment="态度差")

    [rectification] = rows(uow, "rectifications")
    assert rectification["review_id"] == review.review_id
    assert rectification["visit_id"] == answer["visit_id"]
    assert rectification["application_id"] is None
    assert rectification["department_code"] == "320100-GA"
    flagged = outbox(uow)[-1]
    assert flagged["type"] == "bad_review_flagged"
    assert flagged["payload"]["application_id"] is None
    assert flagged["payload"]["verify_due"] == date(2026, 11, 26).isoformat()
    assert_documented(contract.EVENTS["bad_review_flagged"], flagged["payload"])


def test_a_visit_review_of_a_bad_grade_changes_nothing(uow):
    token = record_visit(uow)["token"]

    with pytest.raises(Invalid) as caught:
        review_visit(uow, token, 0, channel="app")

    assert set(caught.value.fields) == {"grade", "channel"}
    assert rows(uow, "reviews") == []
    assert rows(uow, "visits")[0]["review_id"] is None
    # The token still works.
    assert review_visit(uow, token, 5, now=datetime(2026, 11, 26, tzinfo=UTC))
