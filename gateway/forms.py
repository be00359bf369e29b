"""Form bodies (application/x-www-form-urlencoded) and the double-submit check
that guards the forms of the gateway's pages.

A page that holds a form sets the cookie ``tongban_csrf`` (a random value,
HttpOnly, SameSite=Strict) and repeats its value in the form's hidden field
``csrf``. A post whose field and cookie differ, or that lacks either, is refused
before its form is read (:class:`gateway.errors.FormExpired`): another site can
make a browser post to us, but it can neither read our cookie nor set it.
"""

import hmac
import re
import secrets
from urllib.parse import parse_qsl

from gateway.errors import BadForm, FormExpired
from services.common.errors import Invalid

FORM = "application/x-www-form-urlencoded"
CSRF_COOKIE = "tongban_csrf"
CSRF_FIELD = "csrf"
# More than any form of ours has; a body of thousands of fields is refused
# before it costs a dictionary that size.
MAX_FIELDS = 64
_CSRF_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


def parse_form(request) -> dict[str, str]:
    """The form's fields; an empty body is ``{}``. A field given twice is
    refused rather than guessed (OAuth 2.0 forbids repeated parameters too)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != FORM:
        raise BadForm(f"the body must be {FORM}")
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadForm(f"the body is not a UTF-8 form of at most {MAX_FIELDS} fields") from None
    fields: dict[str, str] = {}
    repeated = {}
    for name, value in pairs:
        if name in fields:
            repeated[name] = "give this field once"
        fields[name] = value
    if repeated:
        raise Invalid("invalid form", repeated)
    return fields


def new_csrf_value() -> str:
    return secrets.token_urlsafe(32)


def csrf_value_of(request) -> str | None:
    """The double-submit value the browser holds already, when it is one of ours
    in shape: a page opened in a second tab keeps the first one's forms valid."""
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if _CSRF_VALUE.fullmatch(value) else None


def check_double_submit(request, form: dict[str, str]) -> None:
    """Refuse a post whose ``csrf`` field is not the value of its cookie."""
    cookie = csrf_value_of(request)
    given = form.get(CSRF_FIELD, "")
    if cookie is None or not hmac.compare_digest(cookie.encode(), given.encode("utf-8")):
        raise FormExpired("the form has expired; open the page again")
