"""Evaluation's entrypoints via worker_factory, on a SQLite unit of work: each
answer exactly its documented schema, each bad input Invalid naming the field,
workflow's application_ended read as workflow sends it, and the settings."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from services.common import clock
from services.common.entrypoints import contract_entrypoints
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.schemas import load
from services.common.testing import assert_documented, citizen, envelope, operator, outbox, staff
from services.ratings import contract
from services.ratings.adapters.evaluation_dependency import EvaluationSettings
from services.ratings.service import RatingsService
from services.workflow import contract as workflow

from .conftest import DEPARTMENT, catalog_item, ended_payload

APPLICANT = citizen("u-applicant", name="张三", level=2)
ADMIN = staff("u-admin", DEPARTMENT, "dept_admin")
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
OPERATOR = operator("u-operator")
PORTAL = "https://zwfw.jiangsu.gov.cn"
EVALUATION_METHODS = {
    "submit_review",
    "record_visit",
    "review_visit",
    "list_store_reviews",
    "list_reviews",
    "reply_to_review",
    "file_appeal",
    "decide_appeal",
    "list_appeals",
}


class Clients:
    """The RPC client pool, answering catalog's ``get_item``."""

    def __init__(self):
        self.calls = []

    def call(self, service, method, correlation_id=None, **kwargs):
        self.calls.append((service, method, kwargs))
        if (service, method) != ("catalog", "get_item"):
            raise AssertionError(f"unexpected call {service}.{method}")
        if kwargs["item_id"] != "item-1":
            raise NotFound("no such item", {"item_id": "unknown item"})
        return catalog_item()


@pytest.fixture
def now(monkeypatch):
    """The process clock, fixed within the review window of the ended case."""
    moment = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    return moment


@pytest.fixture
def service(uow, now):
    return worker_factory(
        RatingsService,
        uow=uow,
        clients=Clients(),
        evaluation=EvaluationSettings.from_config({"PORTAL_URL": PORTAL}),
    )


def ended(service, **overrides):
    """A case ended as workflow emits it: dumped with workflow's schema (the
    fields it names), in workflow's envelope."""
    names = set(workflow.ApplicationEnded._declared_fields)
    known = {key: value for key, value in ended_payload(**overrides).items() if key in names}
    payload = workflow.ApplicationEnded().dump(load(workflow.ApplicationEnded, known))
    assert_documented(workflow.ApplicationEnded, payload)
    service.on_application_ended(envelope("workflow", "application_ended", payload))


def test_every_evaluation_answer_is_exactly_its_documented_schema(service, uow):
    entrypoints = dict(contract_entrypoints(RatingsService))
    assert EVALUATION_METHODS <= set(entrypoints)
    called = set()

    def check(method, **arguments):
        answer = getattr(service, method)(**arguments)
        assert json.loads(json.dumps(answer)) == answer
        assert_documented(entrypoints[method].response, answer)
        called.add(method)
        return answer

    check("list_store_reviews", store_id="store-1")
    check("list_reviews", actor=OPERATOR)
    check("list_appeals", actor=OPERATOR)
    ended(service)
    praised = check(
        "submit_review",
        actor=APPLICANT,
        application_id="app-1",
        grade=5,
        comment="很快",
        channel="app",
        indicators={"overall": 5, "usability": 4},
    )
    visit = check("record_visit", actor=CLERK, item_id="item-1", phone="13800000001")
    flagged = check(
        "review_visit",
        token=visit["token"],
        grade=1,
        comment="态度差",
        channel="window",
        indicators={"attitude": 1},
    )
    replied = check("reply_to_review", actor=CLERK, review_id=praised["review_id"], reply="谢谢")
    assert replied["reply"] == "谢谢"
    filed = check("file_appeal", actor=ADMIN, review_id=flagged["review_id"], reason="恶意差评")
    listed = check("list_appeals", actor=ADMIN, state="pending")
    assert listed["items"][0]["appeal_id"] == filed["appeal_id"]
    decided = check(
        "decide_appeal", actor=OPERATOR, appeal_id=filed["appeal_id"], uphold=True, comment="属实"
    )
    assert (decided["state"], decided["review"]["excluded"]) == ("upheld", True)
    board = check("list_store_reviews", store_id="store-1", page="1", page_size="10")
    assert [item["review_id"] for item in board["items"]] == [praised["review_id"]]
    assert board["items"][0]["reviewer"] == "张*"
    assert board["items"][0]["indicators"] == {"overall": 5, "usability": 4}
    staff_list = check("list_reviews", actor=ADMIN, appealed="true")
    assert [item["review_id"] for item in staff_list["items"]] == [flagged["review_id"]]
    assert staff_list["items"][0]["reviewer"] == "匿名"

    assert called == EVALUATION_METHODS
    for recorded in outbox(uow):
        assert_documented(contract.EVENTS[recorded["type"]], recorded["payload"])


def test_a_visit_asks_the_catalogue_for_the_item_and_queues_the_sms(service, uow, now):
    answer = service.record_visit(actor=CLERK, item_id="item-1", phone="13800000001")

    assert service.clients.calls == [("catalog", "get_item", {"item_id": "item-1"})]
    assert answer["expires_at"] == "2026-12-02T08:00:00Z"
    with uow:
        message = uow.sms.get(answer["visit_id"])
    assert message.text.count(f"{PORTAL}/rate?token={answer['token']}") == 1


def test_an_unknown_item_is_not_found(service):
    with pytest.raises(NotFound):
        service.record_visit(actor=CLERK, item_id="item-unknown")


def test_a_visit_may_be_recorded_without_a_phone(service, uow):
    answer = service.record_visit(actor=CLERK, item_id="item-1")

    with uow:
        assert uow.sms.get(answer["visit_id"]) is None


def test_the_review_window_is_the_setting(uow, now):
    service = worker_factory(
        RatingsService,
        uow=uow,
        clients=Clients(),
        evaluation=EvaluationSettings.from_config({"REVIEW_WINDOW_DAYS": "1"}),
    )
    ended(service, ended_at="2026-11-23T09:30:00Z")

    with pytest.raises(Conflict) as caught:
        service.submit_review(actor=APPLICANT, application_id="app-1", grade=5)

    assert type(caught.value) is Conflict
    assert caught.value.code == "review_window_closed"


def test_the_ended_event_makes_a_denied_case_reviewable(service, uow):
    ended(service, outcome="denied", handled_by="320100-GA")

    answer = service.submit_review(actor=APPLICANT, application_id="app-1", grade=2)

    with uow:
        rectification = uow.rectifications.for_review(answer["review_id"])
    assert rectification.department_code == "320100-GA"


def test_a_withdrawn_case_is_not_reviewable(service):
    ended(service, outcome="withdrawn")

    with pytest.raises(Conflict) as caught:
        service.submit_review(actor=APPLICANT, application_id="app-1", grade=5)

    assert caught.value.message == "the case has not ended yet"


def test_a_malformed_ended_event_is_invalid_so_it_is_dead_lettered(service):
    with pytest.raises(Invalid) as caught:
        service.on_application_ended(
            envelope("workflow", "application_ended", {**ended_payload(), "outcome": "lost"})
        )

    assert "payload.outcome" in caught.value.fields


def test_the_ended_event_is_workflows():
    handlers = {
        name: (entrypoint.source_service, entrypoint.event_type, type(entrypoint.payload))
        for name, entrypoint in contract_entrypoints(RatingsService)
        if hasattr(entrypoint, "source_service")
    }

    assert handlers["on_application_ended"] == (
        "workflow",
        "application_ended",
        workflow.ApplicationEnded,
    )
    # Workflow records application_ended beside every application_completed:
    # that one is not consumed.
    assert "application_completed" not in {event_type for _, event_type, _ in handlers.values()}


# --- requests -----------------------------------------------------------------


def invalid_fields(schema, data):
    with pytest.raises(Invalid) as caught:
        load(schema, data)
    return caught.value.fields


def test_a_review_defaults_to_the_web_with_no_sub_grades():
    assert load(contract.SubmitReviewBody, {"grade": 4}) == {
        "grade": 4,
        "comment": "",
        "channel": "web",
        "indicators": {},
    }
    assert load(contract.SubmitReviewBody, {"grade": 4, "indicators": None})["indicators"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"channel": "window"}, {"channel"}),
        ({"channel": None}, {"channel"}),
        ({"indicators": {"attitude": 5}}, {"indicators.attitude"}),
        (
            {"indicators": {"overall": 6, "efficiency": "5"}},
            {"indicators.overall", "indicators.efficiency"},
        ),
        ({"indicators": {"convenience": True}}, {"indicators.convenience"}),
        ({"indicators": [5]}, {"indicators"}),
    ],
)
def test_a_bad_channel_or_sub_grade_of_a_case_review_is_named(body, fields):
    assert set(invalid_fields(contract.SubmitReviewBody, {"grade": 5, **body})) == fields


def test_the_grade_message_of_a_sub_grade_is_the_domains():
    assert invalid_fields(
        contract.SubmitReviewBody, {"grade": 5, "indicators": {"overall": 0}}
    ) == {"indicators.overall": "must be an integer from 1 to 5"}


def test_a_visit_review_takes_the_on_site_sub_grades_and_needs_its_channel():
    body = {"token": "t", "grade": 5, "channel": "sms", "indicators": {"competence": 5}}

    assert load(contract.ReviewVisit, body)["indicators"] == {"competence": 5}
    assert set(invalid_fields(contract.ReviewVisit, {"token": "t", "grade": 5})) == {"channel"}
    assert set(
        invalid_fields(
            contract.ReviewVisit, {**body, "channel": "web", "indicators": {"overall": 5}}
        )
    ) == {"channel", "indicators.overall"}


@pytest.mark.parametrize("token", ["", None, 5, "x" * 129])
def test_a_visit_token_is_a_string_of_1_to_128_characters(token):
    body = {"token": token, "grade": 5, "channel": "window"}

    assert set(invalid_fields(contract.ReviewVisitBody, body)) == {"token"}


def test_a_visit_review_takes_no_actor():
    body = {"token": "t", "grade": 5, "channel": "window", "actor": APPLICANT}

    assert set(invalid_fields(contract.ReviewVisit, body)) == {"actor"}


@pytest.mark.parametrize("phone", ["12800000001", "1380000000", "13800000001\n", ""])
def test_a_visit_phone_is_a_mainland_mobile_number(phone):
    assert invalid_fields(contract.RecordVisitBody, {"item_id": "item-1", "phone": phone}) == {
        "phone": "must be a mainland mobile number: 11 digits, starting 13 to 19"
    }
    assert set(invalid_fields(contract.RecordVisitBody, {"item_id": "i", "phone": 138})) == {
        "phone"
    }


def test_a_visit_phone_may_be_left_out():
    assert load(contract.RecordVisitBody, {"item_id": "item-1"}) == {
        "item_id": "item-1",
        "phone": None,
    }


@pytest.mark.parametrize(
    ("schema", "data", "field"),
    [
        (contract.ReplyBody, {"reply": " "}, "reply"),
        (contract.ReplyBody, {"reply": "好" * 501}, "reply"),
        (contract.AppealBody, {}, "reason"),
        (contract.AppealDecisionBody, {"uphold": "true", "comment": "好"}, "uphold"),
        (contract.AppealDecisionBody, {"uphold": 1, "comment": "好"}, "uphold"),
        (contract.AppealDecisionBody, {"uphold": True}, "comment"),
        (contract.ListAppealsQuery, {"state": "open"}, "state"),
        (contract.ListReviewsQuery, {"appealed": "yes"}, "appealed"),
        (contract.ListReviewsQuery, {"appealed": 1}, "appealed"),
        (contract.ListReviewsQuery, {"department": ""}, "department"),
    ],
)
def test_bad_bodies_and_queries_are_named(schema, data, field):
    assert set(invalid_fields(schema, data)) == {field}


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False), (True, True)])
def test_appealed_is_read_from_query_text(text, value):
    assert load(contract.ListReviewsQuery, {"appealed": text})["appealed"] is value


@pytest.mark.parametrize(
    ("schema", "extra"),
    [
        (contract.RecordVisitBody, {"actor": CLERK}),
        (contract.ReplyBody, {"review_id": "r-1"}),
        (contract.AppealBody, {"actor": ADMIN, "review_id": "r-1"}),
        (contract.AppealDecisionBody, {"appeal_id": "a-1"}),
    ],
)
def test_bodies_refuse_what_the_path_and_the_token_give(schema, extra):
    assert set(extra) <= set(invalid_fields(schema, extra))


def test_entrypoints_refuse_bad_input_before_anything_happens(service, uow):
    with pytest.raises(Invalid) as caught:
        service.record_visit(actor=CLERK, item_id="item-1", phone="110")
    assert set(caught.value.fields) == {"phone"}
    assert service.clients.calls == []
    with pytest.raises(Forbidden):
        service.record_visit(actor=ADMIN, item_id="item-1")
    assert service.clients.calls == []
    assert outbox(uow) == []


# --- settings -----------------------------------------------------------------


def test_settings_default_and_are_read_from_the_config():
    assert EvaluationSettings.from_config({}) == EvaluationSettings.from_config(
        {"REVIEW_WINDOW_DAYS": "", "VISIT_TOKEN_DAYS": None, "PORTAL_URL": ""}
    )
    settings = EvaluationSettings.from_config(
        {"REVIEW_WINDOW_DAYS": " 15 ", "VISIT_TOKEN_DAYS": 3, "PORTAL_URL": PORTAL + "/"}
    )

    assert (settings.policy.review_window_days, settings.policy.visit_token_days) == (15, 3)
    assert settings.portal_url == PORTAL
    default = EvaluationSettings.from_config({})
    assert (default.policy.review_window_days, default.policy.visit_token_days) == (30, 7)
    assert default.portal_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"REVIEW_WINDOW_DAYS": "0"}, "REVIEW_WINDOW_DAYS"),
        ({"REVIEW_WINDOW_DAYS": "366"}, "REVIEW_WINDOW_DAYS"),
        ({"REVIEW_WINDOW_DAYS": "thirty"}, "REVIEW_WINDOW_DAYS"),
        ({"VISIT_TOKEN_DAYS": "-1"}, "VISIT_TOKEN_DAYS"),
        ({"VISIT_TOKEN_DAYS": "7.5"}, "VISIT_TOKEN_DAYS"),
        ({"PORTAL_URL": "zwfw.jiangsu.gov.cn"}, "PORTAL_URL"),
        ({"PORTAL_URL": "ftp://zwfw.jiangsu.gov.cn"}, "PORTAL_URL"),
        ({"PORTAL_URL": "https://zwfw.jiangsu.gov.cn/?x=1"}, "PORTAL_URL"),
    ],
)
def test_a_bad_setting_is_named(config, named):
    with pytest.raises(ValueError, match=named):
        EvaluationSettings.from_config(config)


def test_the_review_window_counts_from_the_china_day_the_case_ended(uow, monkeypatch):
    service = worker_factory(
        RatingsService,
        uow=uow,
        clients=Clients(),
        evaluation=EvaluationSettings.from_config({"REVIEW_WINDOW_DAYS": "1"}),
    )
    ended(service, ended_at="2026-11-24T16:30:00Z")  # 00:30 on the 25th in Nanjing
    last = datetime.combine(date(2026, 11, 26), datetime.max.time(), tzinfo=UTC) - timedelta(
        hours=8
    )
    monkeypatch.setattr(clock, "now", lambda: last)

    assert service.submit_review(actor=APPLICANT, application_id="app-1", grade=5)
