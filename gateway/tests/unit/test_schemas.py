import pytest
from marshmallow import ValidationError

from gateway import schemas as s


def errors_of(schema, data) -> dict:
    with pytest.raises(ValidationError) as caught:
        schema().load(data)
    return caught.value.messages


@pytest.mark.parametrize("grade", ["5", 5.0, True, 0, 6, None])
def test_grade_is_a_strict_integer_in_range(grade):
    assert "grade" in errors_of(s.ReviewRequest, {"grade": grade})


def test_grade_accepts_integers():
    assert s.ReviewRequest().load({"grade": 5}) == {"grade": 5, "comment": ""}


@pytest.mark.parametrize("phone", ["2380000000", "1380000000", "138000000000", "1380000000a"])
def test_phone_rule(phone):
    assert "phone" in errors_of(
        s.RegisterRequest, {"phone": phone, "password": "abcd1234", "name": "x"}
    )


@pytest.mark.parametrize("password", ["short7!", "x" * 129])
def test_password_length(password):
    assert "password" in errors_of(
        s.RegisterRequest, {"phone": "13800000000", "password": password, "name": "x"}
    )


def test_unknown_fields_are_rejected():
    messages = errors_of(s.LoginRequest, {"phone": "13800000000", "password": "x", "admin": True})
    assert "admin" in messages


def test_express_delivery_needs_an_address():
    messages = errors_of(
        s.SubmitApplicationRequest, {"item_id": "i-1", "delivery": {"mode": "express"}}
    )
    assert messages == {"delivery": {"address": ["required for express delivery"]}}


def test_address_fields_are_checked():
    address = {
        "name": "张三",
        "phone": "13800000000",
        "province": "江苏省",
        "city": "南京市",
        "district": "玄武区",
        "street": "中山路 1 号",
        "postcode": "21000",
    }
    messages = errors_of(
        s.SubmitApplicationRequest,
        {"item_id": "i-1", "delivery": {"mode": "express", "address": address}},
    )
    assert messages == {"delivery": {"address": {"postcode": ["must be 6 digits"]}}}


def test_online_delivery_needs_no_address():
    loaded = s.SubmitApplicationRequest().load({"item_id": "i-1", "delivery": {"mode": "online"}})
    assert loaded["form"] == {} and loaded["materials"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"page": "0"}, "page"), ({"page_size": "101"}, "page_size"), ({"page": "x"}, "page")],
)
def test_paging(query, field):
    assert field in errors_of(s.PageQuery, query)


def test_empty_query_values_count_as_absent():
    assert s.ItemSearchQuery().load({"q": "", "page": "2"}) == {"page": 2, "page_size": 20}


def test_ems_event_needs_an_instant_with_offset():
    base = {"tracking_no": "EA1", "status": "delivered", "occurred_at": "2026-11-25T08:00:00"}
    assert "occurred_at" in errors_of(s.EmsEvent, base)
    loaded = s.EmsEvent().load(dict(base, occurred_at="2026-11-25T08:00:00Z"))
    assert loaded["occurred_at"] == "2026-11-25T08:00:00Z"


def test_staff_roles_come_from_the_known_set():
    messages = errors_of(
        s.StaffRequest,
        {
            "phone": "13800000000",
            "password": "abcd1234",
            "name": "李四",
            "department_code": "js-gat",
            "roles": ["superuser"],
        },
    )
    assert "roles" in messages


def test_open_responses_keep_fields_the_service_adds():
    page = {
        "items": [{"review_id": "r-1", "grade": 5, "photos": 2}],
        "summary": {"reviews": 1, "praise_rate": 1.0, "average_grade": 5.0},
        "total": 1,
    }
    assert s.ReviewPage().dump(page) == page


def test_closed_responses_answer_only_the_contract():
    dumped = s.Submitted().dump({"application_id": "a", "state": "submitted", "secret": "x"})
    assert dumped == {"application_id": "a", "state": "submitted"}
