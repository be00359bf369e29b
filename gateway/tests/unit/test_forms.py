"""Form bodies and the double-submit check of the pages' forms."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.errors import BadForm, FormExpired
from gateway.forms import FORM, MAX_FIELDS, check_double_submit, csrf_value_of, parse_form
from services.common.errors import Invalid

CSRF = "A" * 43


def posted(body: bytes, content_type: str = FORM, cookie: str | None = None) -> Request:
    headers = {"Cookie": f"tongban_csrf={cookie}"} if cookie is not None else {}
    builder = EnvironBuilder(method="POST", data=body, content_type=content_type, headers=headers)
    return Request(builder.get_environ())


def test_a_form_is_read_field_by_field():
    form = parse_form(posted(b"phone=139&password=a%26b&empty=&name=%E5%BC%A0"))
    assert form == {"phone": "139", "password": "a&b", "empty": "", "name": "张"}
    assert parse_form(posted(b"", content_type="application/json")) == {}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"grant_type": "authorization_code"}', "application/json"),
        (b"a=%ff", FORM),
        ("&".join(["a=1"] * (MAX_FIELDS + 1)).encode(), FORM),
    ],
)
def test_what_is_not_a_form_is_refused(body, content_type):
    with pytest.raises(BadForm):
        parse_form(posted(body, content_type))


def test_a_field_given_twice_is_refused():
    with pytest.raises(Invalid) as refused:
        parse_form(posted(b"code=1&code=2"))
    assert refused.value.fields == {"code": "give this field once"}


@pytest.mark.parametrize(
    ("cookie", "field"),
    [
        (None, CSRF),  # no cookie: another site's post
        (CSRF, None),  # no field
        (CSRF, "B" * 43),  # another value
        ("short", "short"),  # not a value of ours
        (CSRF, "Ａ" * 43),  # not even ASCII
    ],
)
def test_the_double_submit_check_refuses(cookie, field):
    form = {} if field is None else {"csrf": field}
    with pytest.raises(FormExpired):
        check_double_submit(posted(b"", cookie=cookie), form)


def test_the_double_submit_check_passes_the_same_value():
    check_double_submit(posted(b"", cookie=CSRF), {"csrf": CSRF})
    assert csrf_value_of(posted(b"", cookie=CSRF)) == CSRF
    assert csrf_value_of(posted(b"", cookie="x;y")) is None
