"""The provider's pages: what they say, that they escape, their headers and cookies."""

import re
from html.parser import HTMLParser

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway import oidc_pages as pages
from gateway.errors import FormExpired, RateLimited, error_answer
from services.common.errors import Invalid, Unavailable

HOSTILE = "\"><script>alert(1)</script>&'"
CSRF = "c" * 43


class Outline(HTMLParser):
    """The tags and attributes of a page, and its text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def outline(response: Response) -> Outline:
    return Outline(response.get_data(as_text=True))


def sign_in(**overrides) -> Response:
    values = {
        "locale": "zh-CN",
        "client": {"client_id": "gjj-suzhou", "name": "苏州市住房公积金管理中心"},
        "continue_url": "/oidc/authorize?client_id=gjj-suzhou",
        "csrf": CSRF,
        "form_targets": ("http://127.0.0.1:8600/callback",),
    }
    return pages.sign_in_page(**{**values, **overrides})


def test_the_sign_in_page_names_the_client_and_labels_every_input():
    response = sign_in()
    page = outline(response)
    text = "".join(page.text)
    assert "苏州市住房公积金管理中心 请求使用您的政务服务网账号登录" in text
    assert page.all("html") == [{"lang": "zh-CN"}]
    assert len(page.all("h1")) == 1
    inputs = {attrs["name"]: attrs for attrs in page.all("input")}
    assert inputs["phone"]["autocomplete"] == "tel"
    assert inputs["password"]["autocomplete"] == "current-password"
    assert inputs["csrf"] == {"type": "hidden", "name": "csrf", "value": CSRF}
    labelled = {attrs["for"] for attrs in page.all("label")}
    assert labelled == {"phone", "password"} == {inputs["phone"]["id"], inputs["password"]["id"]}
    assert [form["action"] for form in page.all("form")] == ["/oidc/sign-in"]
    assert not page.all("script") and not page.all("link") and not page.all("img")
    assert not [attrs for attrs in page.all("div") if attrs.get("role") == "alert"]


def test_an_error_is_an_alert_the_inputs_point_to():
    page = outline(sign_in(error="手机号码或密码不正确", status=401, phone="13900000001"))
    [alert] = [attrs for attrs in page.all("div") if attrs.get("role") == "alert"]
    inputs = {attrs["name"]: attrs for attrs in page.all("input")}
    for name in ("phone", "password"):
        assert inputs[name]["aria-describedby"] == alert["id"]
        assert inputs[name]["aria-invalid"] == "true"
    assert inputs["phone"]["value"] == "13900000001"
    one = outline(sign_in(error="请输入 11 位手机号码。", error_fields=("phone",)))
    inputs = {attrs["name"]: attrs for attrs in one.all("input")}
    assert "aria-describedby" in inputs["phone"] and "aria-describedby" not in inputs["password"]


def test_every_value_on_every_page_is_escaped():
    client = {"client_id": "x", "name": HOSTILE, "department_code": HOSTILE}
    rendered = [
        sign_in(client=client, continue_url=HOSTILE, phone=HOSTILE, error=HOSTILE),
        pages.consent_page(
            locale="zh-CN",
            client=client,
            department=HOSTILE,
            scopes=["openid", HOSTILE],
            user_name=HOSTILE,
            continue_url=HOSTILE,
            csrf=CSRF,
        ),
        pages.logout_page(
            locale="zh-CN", client=client, values={"state": HOSTILE, HOSTILE: "x"}, csrf=CSRF
        ),
        pages.message_page(400, "zh-CN", HOSTILE, HOSTILE, HOSTILE, HOSTILE),
    ]
    for response in rendered:
        html = response.get_data(as_text=True)
        assert "<script>" not in html
        assert '"><' not in html
        assert "&lt;script&gt;" in html


def test_pages_send_the_security_headers_and_allow_posting_on_to_the_client_only():
    response = sign_in(form_targets=("https://gjj.suzhou.gov.cn:8443/callback?x=1",))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert "form-action 'self' https://gjj.suzhou.gov.cn:8443;" in policy
    signed_out = pages.signed_out_page("zh-CN")
    assert "form-action 'self';" in signed_out.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8600/callback", "http://127.0.0.1:8600"),
        ("https://GJJ.suzhou.gov.cn/cb", "https://gjj.suzhou.gov.cn"),
        ("http://[::1]:8080/cb", "http://[::1]:8080"),
        ("javascript:alert(1)", None),
        ("https://a.example; script-src *", None),
        ("https://a.example:99999/", None),
        ("", None),
        (None, None),
    ],
)
def test_only_a_plain_http_origin_enters_the_policy(url, origin):
    assert pages.origin_of(url) == origin


def test_the_consent_page_says_who_asks_for_what_with_two_buttons():
    page = outline(
        pages.consent_page(
            locale="zh-CN",
            client={"client_id": "gjj-suzhou", "name": "苏州市住房公积金管理中心"},
            department="苏州市住房公积金管理中心",
            scopes=["openid", "profile", "phone", "enterprise", "agent", "staff"],
            user_name="张三",
            continue_url="/oidc/authorize?client_id=gjj-suzhou",
            csrf=CSRF,
        )
    )
    text = "".join(page.text)
    # The department's own system: its name is said once.
    assert "苏州市住房公积金管理中心 请求获取您的以下信息：" in text
    for words in ("基本信息（姓名）", "手机号码", "企业身份", "代办授权", "工作人员身份", "张三"):
        assert words in text
    buttons = [(b["name"], b["value"]) for b in page.all("button")]
    assert buttons == [("decision", "allow"), ("decision", "deny")]
    assert "同意" in text and "拒绝" in text


def test_the_logout_page_posts_the_request_back_with_the_csrf_value():
    page = outline(
        pages.logout_page(
            locale="zh-CN",
            client=None,
            values={"id_token_hint": "abc", "state": "s1"},
            csrf=CSRF,
        )
    )
    [form] = page.all("form")
    assert form == {"method": "post", "action": "/oidc/logout"}
    hidden = {attrs["name"]: attrs["value"] for attrs in page.all("input")}
    assert hidden == {"csrf": CSRF, "id_token_hint": "abc", "state": "s1"}


def test_english_when_the_request_prefers_it():
    assert pages.locale_of("en-GB zh-CN") == "en"
    assert pages.locale_of("fr zh") == "zh-CN"
    assert pages.locale_of(None) == "zh-CN"
    page = outline(sign_in(locale="en"))
    assert page.all("html") == [{"lang": "en"}]
    assert "asks you to sign in" in "".join(page.text)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 秒"), (59, "59 秒"), (60, "1 分钟"), (61, "2 分钟"), (3600, "1 小时 0 分钟")],
)
def test_waits_in_words(seconds, words):
    assert pages.wait_in_words(seconds, "zh-CN") == words


def request_to(path: str) -> Request:
    return Request(EnvironBuilder(path=path).get_environ())


def test_error_pages_in_the_page_style():
    request = request_to("/oidc/sign-in")
    invalid = pages.PAGE_ERRORS.response(
        error_answer(Invalid("invalid input", {"continue": "must be a relative URL"}), "cid-1"),
        request,
    )
    assert invalid.status_code == 400
    html = invalid.get_data(as_text=True)
    assert "请求无效" in html and "continue: must be a relative URL" in html and "cid-1" in html
    assert invalid.headers["Content-Security-Policy"].startswith("default-src 'none'")

    expired = pages.PAGE_ERRORS.response(error_answer(FormExpired("x")), request)
    assert expired.status_code == 400
    assert "表单已失效，请重新打开页面" in expired.get_data(as_text=True)

    limited = pages.PAGE_ERRORS.response(error_answer(RateLimited("x", retry_after=90)), request)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "90"
    assert "2 分钟" in limited.get_data(as_text=True)

    down = pages.PAGE_ERRORS.response(error_answer(Unavailable("identity is down")), request)
    assert down.status_code == 503 and "identity" not in down.get_data(as_text=True)


def cookie_of(response: Response, name: str) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    return header


def test_the_browser_session_cookie():
    response = Response()
    pages.set_browser_session(response, "v" * 43, 28800, secure=False)
    cookie = cookie_of(response, "tongban_sso")
    assert cookie.startswith("tongban_sso=" + "v" * 43 + ";")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/oidc", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie
    secure = Response()
    pages.set_browser_session(secure, "v", 10, secure=True)
    assert "Secure" in cookie_of(secure, "tongban_sso")
    cleared = Response()
    pages.clear_browser_session(cleared, secure=False)
    cookie = cookie_of(cleared, "tongban_sso")
    assert "Max-Age=0" in cookie and "Path=/oidc" in cookie


def test_the_csrf_cookie():
    response = Response()
    pages.set_csrf_cookie(response, CSRF, secure=True)
    cookie = cookie_of(response, "tongban_csrf")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/oidc", "Secure"):
        assert attribute in cookie
    assert not re.search("Max-Age|Expires", cookie)


def test_cookies_are_secure_when_the_issuer_is_https():
    assert pages.secure_cookies({"OIDC_ISSUER": "https://www.jszwfw.gov.cn"})
    assert not pages.secure_cookies({"OIDC_ISSUER": "http://127.0.0.1:8000"})
    assert not pages.secure_cookies({})


def test_a_department_the_catalogue_does_not_know_is_left_out():
    response = pages.consent_page(
        locale="zh-CN",
        client={"client_id": "c", "name": "某某系统"},
        department=None,
        scopes=["openid"],
        user_name=None,
        continue_url="/oidc/authorize",
        csrf=CSRF,
    )
    text = "".join(outline(response).text)
    assert "某某系统 请求获取您的以下信息：" in text and "（" not in text.split("请求")[0]
