"""The pages of the OpenID Connect provider: sign-in, consent, logout, signed
out, and the page of any error on the way.

Plain HTML from the templates beside this module (``templates/*.html``, filled
with ``string.Template``): no JavaScript, no asset from anywhere, the style
inline. Chinese unless the request's ``ui_locales`` prefers English. Every value
is HTML-escaped on the way in: only fragments built here (:class:`Markup`) are
inserted as they are. Every page answers with the same security headers, its
form may only post here (and follow our redirect to the department system the
request names: browsers check that redirect against ``form-action`` too).

The browser session cookie (``tongban_sso``) and the double-submit cookie
(``tongban_csrf``, see ``gateway.forms``) live under /oidc only.
"""

import math
import re
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from gateway.errors import ErrorAnswer
from gateway.forms import CSRF_COOKIE
from gateway.http import Answer, ErrorStyle

TEMPLATES = Path(__file__).with_name("templates")
SSO_COOKIE = "tongban_sso"
COOKIE_PATH = "/oidc"
HTML = "text/html"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action {};"
    " frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": "no script, no outside asset; forms post here only",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

TEXT = {
    "zh-CN": {
        "site": "政务服务网",
        "sign_in": "登录",
        "sign_in_for": "{client} 请求使用您的政务服务网账号登录",
        "sign_in_plain": "请使用您的政务服务网账号登录",
        "phone": "手机号码",
        "password": "密码",
        "wrong_credentials": "手机号码或密码不正确，请重新输入。",
        "locked": "登录失败次数过多，账号已暂时锁定，请在 {wait}后再试。",
        "bad_phone": "请输入 11 位手机号码。",
        "no_password": "请输入密码。",
        "consent": "授权确认",
        "consent_for": "{client}（{department}）请求获取您的以下信息：",
        "consent_for_plain": "{client} 请求获取您的以下信息：",
        "account": "当前账号：{name}",
        "allow": "同意",
        "deny": "拒绝",
        "logout": "退出登录",
        "logout_from": "{client} 请求退出您的政务服务网登录。",
        "logout_question": "确定要退出登录吗？退出后，您在各部门系统的登录也将结束。",
        "signed_out": "您已退出登录",
        "signed_out_text": (
            "您已安全退出政务服务网及各部门系统的登录。为保护账号安全，建议关闭浏览器窗口。"
        ),
        "reference": "如需帮助，请提供请求编号：{reference}",
        "seconds": "{n} 秒",
        "minutes": "{n} 分钟",
        "hours": "{h} 小时 {m} 分钟",
        "form_expired": ("表单已失效", "表单已失效，请重新打开页面。"),
        "bad_request": ("请求无效", "请求的参数不正确，请返回原网站重新登录。"),
        "client_error": ("无法继续登录", "请求登录的系统未登记，或其回调地址与登记的不符。"),
        "logout_error": ("无法退出登录", "退出请求的参数不正确，或其返回地址未登记。"),
        "unauthorized": ("身份验证失败", "请重新登录。"),
        "forbidden": ("无权访问", "您没有访问此页面的权限。"),
        "not_found": ("页面不存在", "请检查网址是否正确。"),
        "too_large": ("请求内容过大", "请返回原网站重新登录。"),
        "rate_limited": ("请求过于频繁", "请在 {wait}后再试。"),
        "unavailable": ("服务暂时不可用", "请稍后再试。"),
        "internal": ("系统出现错误", "请稍后再试。"),
    },
    "en": {
        "site": "Government Services",
        "sign_in": "Sign in",
        "sign_in_for": "{client} asks you to sign in with your Government Services account",
        "sign_in_plain": "Sign in with your Government Services account",
        "phone": "Mobile number",
        "password": "Password",
        "wrong_credentials": "The mobile number or the password is wrong. Please try again.",
        "locked": "Too many failed sign-ins: the account is locked. Try again in {wait}.",
        "bad_phone": "Enter an 11-digit mobile number.",
        "no_password": "Enter your password.",
        "consent": "Allow access",
        "consent_for": "{client} ({department}) asks for the following:",
        "consent_for_plain": "{client} asks for the following:",
        "account": "Signed in as {name}",
        "allow": "Allow",
        "deny": "Deny",
        "logout": "Sign out",
        "logout_from": "{client} asks to end your Government Services sign-in.",
        "logout_question": "Sign out? Your sign-in to every department system ends too.",
        "signed_out": "You have signed out",
        "signed_out_text": (
            "You have signed out of Government Services and every department system."
            " Close the browser window to be safe."
        ),
        "reference": "If you need help, quote the request number {reference}",
        "seconds": "{n} seconds",
        "minutes": "{n} minutes",
        "hours": "{h} hours {m} minutes",
        "form_expired": ("The form has expired", "The form has expired. Open the page again."),
        "bad_request": ("Bad request", "The request is not valid. Go back and sign in again."),
        "client_error": (
            "Cannot continue",
            "The system asking you to sign in is not registered, or its return address is not.",
        ),
        "logout_error": (
            "Cannot sign out",
            "The sign-out request is not valid, or its return address is not registered.",
        ),
        "unauthorized": ("Not signed in", "Please sign in again."),
        "forbidden": ("Not allowed", "You may not open this page."),
        "not_found": ("Not found", "Check the address."),
        "too_large": ("Request too large", "Go back and sign in again."),
        "rate_limited": ("Too many requests", "Try again in {wait}."),
        "unavailable": ("Service unavailable", "Please try again later."),
        "internal": ("Something went wrong", "Please try again later."),
    },
}

# What each scope lets the department system see, in words.
SCOPE_WORDS = {
    "zh-CN": {
        "openid": "账号标识（用于识别您的身份）",
        "profile": "基本信息（姓名）",
        "phone": "手机号码",
        "enterprise": "企业身份",
        "agent": "代办授权",
        "staff": "工作人员身份",
        "offline_access": "在您离开后继续访问（保持登录）",
    },
    "en": {
        "openid": "Your account identifier",
        "profile": "Basic information (your name)",
        "phone": "Your mobile number",
        "enterprise": "The enterprises you act for",
        "agent": "The mandates you hold as an agent",
        "staff": "Your staff role",
        "offline_access": "Access while you are away (stay signed in)",
    },
}

# The error page of each error code (the error table's), else of its status.
_PAGE_OF_CODE = {
    "form_expired": "form_expired",
    "invalid": "bad_request",
    "bad_form": "bad_request",
    "bad_json": "bad_request",
    "rate_limited": "rate_limited",
    "payload_too_large": "too_large",
}
_PAGE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
    504: "unavailable",
}

_NAME = re.compile(r"[a-z0-9.-]+")
_IPV6 = re.compile(r"[0-9a-f:.]+")


class Markup(str):
    """A fragment built here, inserted into a template as it is."""


def _fill(name: str, **values) -> Markup:
    """The template ``name`` with every value escaped but :class:`Markup`."""
    escaped = {
        key: value if isinstance(value, Markup) else escape(str(value), quote=True)
        for key, value in values.items()
    }
    return Markup(_template(name).substitute(escaped))


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def locale_of(ui_locales: str | None) -> str:
    """The first of the request's ``ui_locales`` we have pages in (``en-GB`` is
    English, ``zh`` Chinese), else Chinese."""
    for tag in (ui_locales or "").split():
        language = tag.split("-")[0].lower()
        for locale in LOCALES:
            if locale.split("-")[0].lower() == language:
                return locale
    return DEFAULT_LOCALE


def wait_in_words(seconds: int, locale: str) -> str:
    text = TEXT[locale]
    if seconds < 60:
        return text["seconds"].format(n=max(seconds, 1))
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return text["minutes"].format(n=minutes)
    return text["hours"].format(h=minutes // 60, m=minutes % 60)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, as a CSP source; None for
    anything else (never a value that could end the directive)."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        return None
    if _NAME.fullmatch(host):
        pass
    elif _IPV6.fullmatch(host):
        host = f"[{host}]"
    else:
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def page(
    status: int,
    locale: str,
    title: str,
    content: Markup,
    form_targets: tuple[str | None, ...] = (),
) -> Response:
    """A whole page with the security headers; its forms may post here and be
    redirected on to the origins of ``form_targets``."""
    text = TEXT[locale]
    body = _fill(
        "page.html",
        lang=locale,
        title=f"{title} - {text['site']}",
        site=text["site"],
        content=content,
    )
    origins = sorted({origin for origin in map(origin_of, form_targets) if origin})
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = CSP.format(" ".join(["'self'", *origins]))
    return Response(body, status=status, headers=headers, content_type=f"{HTML}; charset=utf-8")


def _hidden(name: str, value: str) -> Markup:
    name, value = escape(name, quote=True), escape(value, quote=True)
    return Markup(f'<input type="hidden" name="{name}" value="{value}">')


def _alert(message: str | None) -> Markup:
    if not message:
        return Markup("")
    return Markup(f'<div id="form-error" class="alert" role="alert">{escape(message)}</div>')


def _described(error_here: bool) -> Markup:
    if not error_here:
        return Markup("")
    return Markup(' aria-invalid="true" aria-describedby="form-error"')


def sign_in_page(
    *,
    locale: str,
    client: dict | None,
    continue_url: str,
    csrf: str,
    phone: str = "",
    error: str | None = None,
    error_fields: tuple[str, ...] = (),
    status: int = 200,
    form_targets: tuple[str | None, ...] = (),
) -> Response:
    """The sign-in form; with ``error``, shown again with the message linked
    to ``error_fields`` (both when none is named)."""
    text = TEXT[locale]
    fields = error_fields or ("phone", "password")
    request = text["sign_in_for"].format(client=client["name"]) if client else text["sign_in_plain"]
    content = _fill(
        "sign_in.html",
        heading=text["sign_in"],
        request=request,
        alert=_alert(error),
        csrf=csrf,
        continue_url=continue_url,
        phone_label=text["phone"],
        password_label=text["password"],
        phone=phone,
        phone_error=_described(bool(error) and "phone" in fields),
        password_error=_described(bool(error) and "password" in fields),
        submit=text["sign_in"],
    )
    return page(status, locale, text["sign_in"], content, form_targets)


def consent_page(
    *,
    locale: str,
    client: dict,
    department: str | None,
    scopes: list[str],
    user_name: str | None,
    continue_url: str,
    csrf: str,
    form_targets: tuple[str | None, ...] = (),
) -> Response:
    """Who asks (the department system and its department, when known), for
    what (each scope in words), and the two buttons."""
    text = TEXT[locale]
    words = SCOPE_WORDS[locale]
    items = "\n".join(f"<li>{escape(words.get(scope, scope))}</li>" for scope in scopes)
    content = _fill(
        "consent.html",
        heading=text["consent"],
        # A department's own system is named after it: said once.
        request=(
            text["consent_for"].format(client=client["name"], department=department)
            if department and department != client["name"]
            else text["consent_for_plain"].format(client=client["name"])
        ),
        scopes=Markup(items),
        account=text["account"].format(name=user_name) if user_name else "",
        csrf=csrf,
        continue_url=continue_url,
        allow=text["allow"],
        deny=text["deny"],
    )
    return page(200, locale, text["consent"], content, form_targets)


def logout_page(
    *,
    locale: str,
    client: dict | None,
    values: dict[str, str],
    csrf: str,
    form_targets: tuple[str | None, ...] = (),
) -> Response:
    """The confirmation: a form that posts the request's values back."""
    text = TEXT[locale]
    question = text["logout_question"]
    if client:
        question = f"{text['logout_from'].format(client=client['name'])}{question}"
    hidden = "\n".join(_hidden(name, value) for name, value in values.items())
    content = _fill(
        "logout.html",
        heading=text["logout"],
        question=question,
        csrf=csrf,
        hidden=Markup(hidden),
        submit=text["logout"],
    )
    return page(200, locale, text["logout"], content, form_targets)


def signed_out_page(locale: str) -> Response:
    text = TEXT[locale]
    return message_page(200, locale, text["signed_out"], text["signed_out_text"], alert=False)


def message_page(
    status: int,
    locale: str,
    heading: str,
    message: str,
    detail: str | None = None,
    reference: str | None = None,
    alert: bool = True,
) -> Response:
    """A page that says one thing: an error (``alert``), or that the user signed out."""
    text = TEXT[locale]
    content = _fill(
        "message.html",
        heading=heading,
        alert=Markup(' class="alert" role="alert"' if alert else ""),
        message=message,
        detail=Markup(f'<p class="note">{escape(detail)}</p>') if detail else Markup(""),
        reference=text["reference"].format(reference=reference) if reference else "",
    )
    return page(status, locale, heading, content)


def problem_page(status: int, locale: str, kind: str, detail: str | None = None, **words):
    """The error page ``kind`` of :data:`TEXT` (its heading and message)."""
    heading, message = TEXT[locale][kind]
    return message_page(status, locale, heading, message.format(**words), detail)


def _error_page(answer: ErrorAnswer, request) -> Response:
    locale = locale_of(request.args.get("ui_locales"))
    kind = _PAGE_OF_CODE.get(answer.code) or _PAGE_OF_STATUS.get(answer.status, "internal")
    heading, message = TEXT[locale][kind]
    if kind == "rate_limited":
        wait = int(answer.headers.get("Retry-After", "1"))
        message = message.format(wait=wait_in_words(wait, locale))
    # The fields the input was refused for (their names and our reasons, never
    # the values sent) help whoever built the request.
    detail = "; ".join(f"{name}: {reason}" for name, reason in sorted(answer.fields.items()))
    response = message_page(
        answer.status, locale, heading, message, detail or None, answer.correlation_id
    )
    for name, value in answer.headers.items():
        if name != "WWW-Authenticate":
            response.headers[name] = value
    return response


# How the page routes write their errors: a page; a refused input is a bad
# request (400) to a browser.
PAGE_ERRORS = ErrorStyle(HTML, {"type": "string"}, _error_page, statuses={422: 400})


def html_answer(description: str) -> Answer:
    """An HTML page answer, for a route's documented ``answers``."""
    return Answer(description, content_type=HTML, schema={"type": "string"}, headers=PAGE_HEADERS)


# -- cookies -----------------------------------------------------------------


def secure_cookies(config) -> bool:
    """Cookies are Secure when the provider's public URL is https."""
    return str(config.get("OIDC_ISSUER") or "").lower().startswith("https://")


def set_browser_session(response: Response, value: str, max_age: int, secure: bool) -> None:
    # Lax: it must come along on the top-level redirect from a department's site.
    response.set_cookie(
        SSO_COOKIE,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def clear_browser_session(response: Response, secure: bool) -> None:
    response.delete_cookie(
        SSO_COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax"
    )


def set_csrf_cookie(response: Response, value: str, secure: bool) -> None:
    # Strict: only our own pages' posts carry it.
    response.set_cookie(
        CSRF_COOKIE, value, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Strict"
    )
