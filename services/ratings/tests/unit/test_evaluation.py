"""Evaluation in the domain: reviewable ended cases, reviews, replies, appeals."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.errors import Conflict, Forbidden
from services.common.testing import citizen, operator, staff
from services.common.working_calendar import WorkingCalendar
from services.ratings.domain.events import (
    AppealDecided,
    AppealFiled,
    BadReviewFlagged,
    ReviewReplied,
    ReviewSubmitted,
)
from services.ratings.domain.exceptions import (
    AlreadyReplied,
    AlreadyReviewed,
    AppealAlreadyDecided,
    AppealPending,
    InvalidTransition,
    NotPermitted,
    ReviewWindowClosed,
    ValidationFailed,
)
from services.ratings.domain.model import (
    ANONYMOUS,
    EvaluationPolicy,
    ReviewableCase,
    hash_token,
    indicator_errors,
    is_evaluable,
    last_review_day,
    mask_name,
    phone_error,
)

from .conftest import DEPARTMENT, NOW, ended_payload

GRADE_MESSAGE = "must be an integer from 1 to 5"
APPLICANT = citizen("u-applicant", name="张三", level=2)
PRINCIPAL = citizen("u-principal", name="李四", level=1)
JOINT = "320100-GA"  # the department that denied a joint review
ADMIN = staff("u-admin", DEPARTMENT, "dept_admin")
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
OTHER_ADMIN = staff("u-other-admin", "320500-MSA", "dept_admin")
OPERATOR = operator("u-operator")
CALENDAR = WorkingCalendar()


def ended(**overrides) -> ReviewableCase:
    return ReviewableCase.from_application_ended(ended_payload(**overrides))


def reviewed(grade=5, actor=APPLICANT, **kwargs):
    return ended(**kwargs).review(actor, grade, "", NOW)


# --- the case, from workflow's events -----------------------------------------


def test_an_ended_case_keeps_who_may_review_it_and_who_handled_it():
    case = ended(
        principal_id="u-principal",
        handled_by=JOINT,
        outcome="denied",
        ended_at="2026-11-24T17:30:00+08:00",
    )

    assert (case.applicant_id, case.principal_id) == ("u-applicant", "u-principal")
    assert (case.department_code, case.handled_by) == (DEPARTMENT, JOINT)
    assert case.outcome == "denied"
    assert case.ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert case.reviewed is False


@pytest.mark.parametrize(
    ("outcome", "evaluable"),
    [
        ("completed", True),
        ("denied", True),
        ("rejected", True),
        ("not_supplemented", False),
        ("withdrawn", False),
        (None, False),
    ],
)
def test_completed_denied_and_rejected_cases_are_evaluable(outcome, evaluable):
    assert is_evaluable(outcome) is evaluable


@pytest.mark.parametrize("outcome", ["withdrawn", "not_supplemented", "approved"])
def test_a_case_that_is_not_evaluable_is_refused(outcome):
    with pytest.raises(ValidationFailed) as caught:
        ended(outcome=outcome)

    assert set(caught.value.fields) == {"outcome"}


def test_every_bad_field_of_the_ended_event_is_named_at_once():
    payload = ended_payload(handled_by="", principal_id="", ended_at="yesterday")
    del payload["store_id"]

    with pytest.raises(ValidationFailed) as caught:
        ReviewableCase.from_application_ended(payload)

    assert set(caught.value.fields) == {"handled_by", "principal_id", "ended_at", "store_id"}


def test_handled_by_is_a_department_code():
    assert ended(handled_by="D" * 32).handled_by == "D" * 32
    with pytest.raises(ValidationFailed) as caught:
        ended(handled_by="D" * 33)
    assert caught.value.fields == {"handled_by": "must be at most 32 characters"}


def test_a_case_recorded_without_a_principal_learns_it_once():
    case = ended()

    assert case.learn(ended(principal_id="u-principal")) is True
    assert case.principal_id == "u-principal"
    assert case.learn(ended(principal_id="u-someone-else")) is False
    assert case.principal_id == "u-principal"
    assert case.learn(ended()) is False


# --- who reviews, and until when ----------------------------------------------


@pytest.mark.parametrize("actor", [APPLICANT, PRINCIPAL], ids=["applicant", "principal"])
def test_the_applicant_or_whom_the_case_was_for_reviews_it(actor):
    case = ended(principal_id="u-principal")

    review = case.review(actor, 4, " 很方便 ", NOW)

    assert review.reviewer_id == actor["user_id"]
    assert review.comment == "很方便"
    assert case.reviewed is True


@pytest.mark.parametrize(
    "actor",
    [citizen("u-other"), ADMIN, OPERATOR, {**APPLICANT, "user_id": None}, {}, None],
    ids=["other-citizen", "staff", "operator", "no-user-id", "empty", "none"],
)
def test_no_one_else_reviews_it(actor):
    case = ended(principal_id="u-principal")

    with pytest.raises(NotPermitted):
        case.review(actor, 5, "", NOW)
    assert case.reviewed is False


def test_a_case_without_a_principal_is_not_reviewed_by_a_null_user():
    with pytest.raises(Forbidden):
        ended().review({**APPLICANT, "user_id": None}, 5, "", NOW)


def test_a_case_is_reviewed_once_whoever_reviews_it():
    case = ended(principal_id="u-principal")
    case.review(APPLICANT, 5, "", NOW)

    with pytest.raises(AlreadyReviewed):
        case.review(PRINCIPAL, 1, "", NOW)


def test_the_last_day_to_review_is_30_calendar_days_after_the_day_it_ended_in_china():
    # 2026-11-24 23:59 in Nanjing is still the 24th; 00:00 is the 25th.
    assert last_review_day(datetime(2026, 11, 24, 15, 59, tzinfo=UTC), 30) == date(2026, 12, 24)
    assert last_review_day(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), 30) == date(2026, 12, 25)


def test_a_case_may_be_reviewed_to_the_end_of_its_last_day_and_not_after():
    last_moment = datetime(2026, 12, 24, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Nanjing

    assert ended().review(APPLICANT, 5, "", last_moment).grade == 5
    case = ended()
    with pytest.raises(ReviewWindowClosed) as caught:
        case.review(APPLICANT, 5, "", last_moment + timedelta(seconds=1))

    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "review_window_closed"
    assert caught.value.fields == {"application_id": "the review window has closed"}
    assert "2026-12-24" in caught.value.message
    assert case.reviewed is False


def test_the_window_is_the_setting():
    case = ended()
    with pytest.raises(ReviewWindowClosed):
        case.review(APPLICANT, 5, "", NOW + timedelta(days=7), window_days=7)

    assert case.review(APPLICANT, 5, "", NOW + timedelta(days=6), window_days=7)


def test_a_denied_case_is_reviewed_like_a_completed_one():
    review = ended(outcome="denied", handled_by=JOINT).review(APPLICANT, 1, "不予许可理由不清", NOW)

    assert review.handled_by == JOINT
    assert review.department_code == DEPARTMENT


# --- what a review holds ---------------------------------------------------------


def test_a_review_keeps_the_reviewer_masked_and_whether_the_name_is_real():
    review = ended().review(APPLICANT, 5, "", NOW)

    assert review.reviewer_name == "张*"
    assert review.real_name is True
    assert review.channel == "web"
    assert review.indicators == {}
    assert (review.application_id, review.visit_id) == ("app-1", None)
    assert re.fullmatch(r"[0-9a-f]{32}", review.review_id)


@pytest.mark.parametrize(
    ("level", "real_name"), [(2, True), (3, True), (1, False), (None, False), (True, False)]
)
def test_a_review_is_real_name_from_assurance_level_2(level, real_name):
    actor = {**APPLICANT, "level": level}

    assert ended().review(actor, 5, "", NOW).real_name is real_name


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧***"),
        ("爱新觉罗·溥仪", "爱***"),
        ("张", "张*"),
        ("  李四 ", "李*"),
        ("Alice", "A***"),
        ("", ANONYMOUS),
        ("   ", ANONYMOUS),
        (None, ANONYMOUS),
        (42, ANONYMOUS),
    ],
)
def test_names_are_masked_to_their_first_character(name, shown):
    assert mask_name(name) == shown


@pytest.mark.parametrize("channel", ["web", "app"])
def test_a_case_is_reviewed_online(channel):
    assert ended().review(APPLICANT, 5, "", NOW, channel=channel).channel == channel


@pytest.mark.parametrize("channel", ["window", "sms", "phone", None, 1])
def test_a_case_is_not_reviewed_at_a_window_or_by_sms(channel):
    with pytest.raises(ValidationFailed) as caught:
        ended().review(APPLICANT, 5, "", NOW, channel=channel)

    assert set(caught.value.fields) == {"channel"}


def test_online_sub_grades_are_kept_in_their_order():
    review = ended().review(
        APPLICANT,
        4,
        "",
        NOW,
        indicators={"usability": 3, "overall": 4, "efficiency": 5},
    )

    assert list(review.indicators.items()) == [("overall", 4), ("efficiency", 5), ("usability", 3)]


def test_every_bad_sub_grade_is_named_with_the_grade_and_the_channel():
    case = ended()
    with pytest.raises(ValidationFailed) as caught:
        case.review(
            APPLICANT,
            0,
            "",
            NOW,
            channel="window",
            indicators={"attitude": 5, "efficiency": 6, "convenience": True, "overall": 5},
        )

    assert caught.value.fields == {
        "grade": GRADE_MESSAGE,
        "channel": "a case is reviewed online: one of ('web', 'app')",
        "indicators.attitude": "not a sub-grade of this review: one of "
        "('overall', 'efficiency', 'guide_accuracy', 'convenience', 'usability')",
        "indicators.efficiency": GRADE_MESSAGE,
        "indicators.convenience": GRADE_MESSAGE,
    }
    assert case.reviewed is False


@pytest.mark.parametrize("indicators", [[5], "overall=5", 5])
def test_sub_grades_are_an_object(indicators):
    with pytest.raises(ValidationFailed) as caught:
        ended().review(APPLICANT, 5, "", NOW, indicators=indicators)

    assert caught.value.fields == {"indicators": "must be an object of sub-grades by name"}


def test_no_sub_grades_is_none_or_empty():
    assert indicator_errors(None, ("overall",)) == ({}, {})
    assert indicator_errors({}, ("overall",)) == ({}, {})


def test_a_review_records_review_submitted_with_every_field():
    case = ended(outcome="rejected")
    review = case.review(
        APPLICANT, 2, "材料被退回", NOW, channel="app", indicators={"guide_accuracy": 1}
    )

    assert case.events == []
    assert review.events == [
        ReviewSubmitted(
            review_id=review.review_id,
            application_id="app-1",
            visit_id=None,
            store_id="store-1",
            department_code=DEPARTMENT,
            region_code="320102",
            item_id="item-1",
            item_name="Food business licence",
            grade=2,
            channel="app",
            real_name=True,
            indicators={"guide_accuracy": 1},
            submitted_at=NOW,
        )
    ]


# --- a bad review opens a rectification -------------------------------------------


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_opens_a_rectification_for_the_department_that_handled_it(grade):
    review = reviewed(grade, handled_by=JOINT)

    rectification = review.open_rectification(NOW, CALENDAR)

    assert rectification.review_id == review.review_id
    assert rectification.department_code == JOINT
    assert (rectification.application_id, rectification.visit_id) == ("app-1", None)
    assert rectification.verify_due == date(2026, 11, 26)  # Wednesday -> Thursday
    assert review.events[-1] == BadReviewFlagged(
        review_id=review.review_id,
        rectification_id=rectification.rectification_id,
        application_id="app-1",
        department_code=JOINT,
        grade=grade,
        verify_due=date(2026, 11, 26),
    )


def test_the_rectification_is_verified_by_the_next_working_day_of_the_calendar():
    national_day = WorkingCalendar(holidays={date(2026, 10, d) for d in range(1, 8)})
    case = ended(ended_at="2026-09-29T02:00:00Z")
    review = case.review(APPLICANT, 1, "", datetime(2026, 9, 30, 2, 0, tzinfo=UTC))

    assert review.open_rectification(NOW, national_day).verify_due == date(2026, 11, 26)
    assert review.open_rectification(
        datetime(2026, 9, 30, 2, 0, tzinfo=UTC), national_day
    ).verify_due == date(2026, 10, 8)


@pytest.mark.parametrize("grade", [3, 4, 5])
def test_other_grades_open_no_rectification(grade):
    review = reviewed(grade)

    assert not review.is_bad
    with pytest.raises(ValueError):
        review.open_rectification(NOW, CALENDAR)
    assert [type(event) for event in review.events] == [ReviewSubmitted]


# --- the public reply ------------------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [ADMIN, CLERK, staff("u-j", JOINT, "dept_admin"), OPERATOR],
    ids=["dept-admin", "window-clerk", "handling-department", "operator"],
)
def test_staff_of_the_handling_department_or_an_operator_reply_once(actor):
    review = reviewed(handled_by=actor.get("department_code") or DEPARTMENT)

    review.answer(actor, "  感谢您的肯定  ", NOW)

    assert (review.reply, review.replied_at, review.replied_by) == (
        "感谢您的肯定",
        NOW,
        actor["user_id"],
    )
    assert review.events[-1] == ReviewReplied(
        review_id=review.review_id,
        store_id=review.store_id,
        department_code=review.handled_by,
        replied_at=NOW,
    )
    with pytest.raises(AlreadyReplied) as caught:
        review.answer(actor, "再说一次", NOW)
    assert caught.value.code == "already_replied"


@pytest.mark.parametrize(
    "actor",
    [
        OTHER_ADMIN,
        staff("u-approver", DEPARTMENT, "approver"),
        APPLICANT,
        {**ADMIN, "user_id": None},
        None,
    ],
    ids=["other-department", "approver", "citizen", "no-user-id", "none"],
)
def test_no_one_else_replies(actor):
    review = reviewed()

    with pytest.raises(NotPermitted):
        review.answer(actor, "你好", NOW)
    assert review.reply is None


def test_staff_of_the_items_department_do_not_reply_for_the_one_that_handled_it():
    with pytest.raises(NotPermitted):
        reviewed(handled_by=JOINT).answer(ADMIN, "你好", NOW)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "must not be empty"),
        ("  \n ", "must not be empty"),
        ("好" * 501, "must be at most 500 characters"),
        (None, "must be a string"),
        (5, "must be a string"),
    ],
)
def test_a_reply_is_1_to_500_characters(reply, message):
    review = reviewed()

    with pytest.raises(ValidationFailed) as caught:
        review.answer(ADMIN, reply, NOW)

    assert caught.value.fields == {"reply": message}
    assert review.reply is None


# --- appeals ---------------------------------------------------------------------


def test_the_department_admin_appeals_a_review_it_handled():
    review = reviewed(1)

    appeal = review.appeal(ADMIN, "  评价与本事项无关  ", NOW)

    assert (appeal.review_id, appeal.department_code, appeal.reason) == (
        review.review_id,
        DEPARTMENT,
        "评价与本事项无关",
    )
    assert (appeal.state, appeal.filed_by, appeal.filed_at) == ("pending", "u-admin", NOW)
    assert review.appeal_state == "pending"
    assert appeal.events == [
        AppealFiled(
            appeal_id=appeal.appeal_id,
            review_id=review.review_id,
            department_code=DEPARTMENT,
            filed_at=NOW,
        )
    ]


@pytest.mark.parametrize(
    "actor",
    [CLERK, OTHER_ADMIN, OPERATOR, APPLICANT, {**ADMIN, "department_code": None}],
    ids=["window-clerk", "other-department", "operator", "citizen", "no-department"],
)
def test_only_the_handling_departments_admin_appeals(actor):
    review = reviewed(1)

    with pytest.raises(NotPermitted):
        review.appeal(actor, "无关", NOW)
    assert review.appeal_state is None


@pytest.mark.parametrize("reason", ["", "   ", "理" * 501, None])
def test_an_appeal_needs_a_reason(reason):
    with pytest.raises(ValidationFailed) as caught:
        reviewed(1).appeal(ADMIN, reason, NOW)

    assert set(caught.value.fields) == {"reason"}


def test_a_review_has_one_open_appeal_and_is_not_appealed_after_a_decision():
    review = reviewed(1)
    appeal = review.appeal(ADMIN, "无关", NOW)

    with pytest.raises(AppealPending) as pending:
        review.appeal(ADMIN, "再次", NOW)
    appeal.decide(OPERATOR, False, "评价属实", NOW)
    review.settle(appeal)
    with pytest.raises(AppealAlreadyDecided) as decided:
        review.appeal(ADMIN, "再次", NOW)

    assert (pending.value.code, decided.value.code) == ("appeal_pending", "appeal_decided")


@pytest.mark.parametrize(
    ("uphold", "state", "excluded"), [(True, "upheld", True), (False, "rejected", False)]
)
def test_the_operator_decides_and_an_upheld_appeal_excludes_the_review(uphold, state, excluded):
    review = reviewed(1)
    appeal = review.appeal(ADMIN, "无关", NOW)
    later = NOW + timedelta(days=1)

    appeal.decide(OPERATOR, uphold, "  已核实  ", later)
    review.settle(appeal)

    assert (appeal.state, appeal.upheld) == (state, uphold)
    assert (appeal.decided_by, appeal.decided_at, appeal.decision_comment) == (
        "u-operator",
        later,
        "已核实",
    )
    assert appeal.events[-1] == AppealDecided(
        appeal_id=appeal.appeal_id, review_id=review.review_id, upheld=uphold, decided_at=later
    )
    assert (review.excluded, review.is_public, review.appeal_state) == (
        excluded,
        not excluded,
        state,
    )


@pytest.mark.parametrize("actor", [ADMIN, APPLICANT, {**OPERATOR, "user_id": ""}, None])
def test_only_an_operator_decides(actor):
    appeal = reviewed(1).appeal(ADMIN, "无关", NOW)

    with pytest.raises(NotPermitted):
        appeal.decide(actor, True, "好", NOW)
    assert appeal.state == "pending"


def test_an_appeal_is_decided_once():
    appeal = reviewed(1).appeal(ADMIN, "无关", NOW)
    appeal.decide(OPERATOR, True, "剔除", NOW)

    with pytest.raises(InvalidTransition):
        appeal.decide(OPERATOR, False, "改判", NOW)
    assert appeal.state == "upheld"


def test_every_bad_field_of_a_decision_is_named():
    appeal = reviewed(1).appeal(ADMIN, "无关", NOW)

    with pytest.raises(ValidationFailed) as caught:
        appeal.decide(OPERATOR, "yes", " ", NOW)

    assert caught.value.fields == {
        "uphold": "must be true or false",
        "comment": "must not be empty",
    }
    assert appeal.state == "pending"


def test_an_appeal_settles_only_its_own_review():
    appeal = reviewed(1).appeal(ADMIN, "无关", NOW)

    with pytest.raises(ValueError):
        reviewed(1).settle(appeal)


# --- small rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "fine"),
    [
        ("13800000001", True),
        ("19912345678", True),
        ("12800000001", False),
        ("1380000000", False),
        ("138000000011", False),
        ("+8613800000001", False),
        ("1380000000١", False),
        ("13800000001\n", False),
        (13800000001, False),
        (None, False),
    ],
)
def test_a_phone_is_a_mainland_mobile_number(phone, fine):
    assert (phone_error(phone) is None) is fine


def test_a_token_is_kept_as_its_sha256():
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    "settings",
    [{"review_window_days": 0}, {"visit_token_days": 366}, {"review_window_days": True}],
)
def test_the_time_limits_are_1_to_365_days(settings):
    with pytest.raises(ValueError):
        EvaluationPolicy(**settings)
    assert EvaluationPolicy() == EvaluationPolicy(review_window_days=30, visit_token_days=7)
