"""Electronic licences (电子证照): their numbers, their documents, their validity.

Plain Python. A licence is a signed document: its body (holder, item, issuing
body, dates, content) serialised as canonical JSON (:func:`canonical_json`,
RFC 8785: keys sorted by UTF-16 code units, no insignificant whitespace, UTF-8,
numbers as ECMAScript writes them) and signed with a key of the issuing
workflow instance. The domain never touches a key: :class:`LicenceNumbers`
is handed a ``sign(data) -> (kid, signature)`` by the service layer.

Numbers have the GB/T 36904 shape
``1.2.156.3005.2.<licence type code>.<issuer USCC>.<serial>.<version>.<check>``:
the serial is random (``SERIAL_LENGTH`` characters of 0-9A-Z, about 62 bits:
not guessable, and unique per issuer by the number's primary key), the version
three digits (``001`` for a first issue) and the check character ISO 7064
MOD 37,36 over every letter and digit before it (the dots left out).
Numbers issued before (``[<code>.]JS<region><yyyymmdd><serial>``) stay valid.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.common.instances import LICENCE_ROOT, default_issuer_uscc, licence_issuer
from services.common.values import copy_json

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERIAL_LENGTH = 12
FIRST_VERSION = 1
SIGNATURE_ALGORITHM = "EdDSA"
TYPE_CODE = re.compile(r"[0-9A-Z]{2,20}")
NATIONAL_NUMBER = re.compile(
    re.escape(LICENCE_ROOT)
    + r"\.([0-9A-Z]{2,20})\.([0-9A-HJ-NPQRTUWXY]{18})\.([0-9A-Z]{8,32})\.([0-9]{3})\.([0-9A-Z])"
)
LEGACY_NUMBER = re.compile(r"(?:[a-z0-9][a-z0-9-]{0,23}\.)?JS(\d{6})(\d{8})(\d{6})")
# Nesting deeper than this is no licence body: refused before recursing.
MAX_DEPTH = 32

Sign = Callable[[bytes], tuple[str, str]]


# ------------------------------------------------------------------ numbers


def check_character(text: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid) check character of ``text``'s letters and
    digits (anything else, the dots, is left out)."""
    modulus = 36
    product = modulus
    for char in text.upper():
        if char not in ALPHANUMERIC:
            continue
        total = (product + ALPHANUMERIC.index(char)) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    return ALPHANUMERIC[(modulus + 1 - product) % modulus]


def format_number(type_code: str, issuer_uscc: str, serial: str, version: int) -> str:
    """The national number; ValueError naming the part that does not fit."""
    if not TYPE_CODE.fullmatch(type_code or ""):
        raise ValueError(f"licence type code must be 2..20 of 0-9A-Z, got {type_code!r}")
    if licence_issuer(f"{LICENCE_ROOT}.00.{issuer_uscc}.00000000.001.0") is None:
        raise ValueError(f"issuer must be an 18-character USCC, got {issuer_uscc!r}")
    if not re.fullmatch(r"[0-9A-Z]{8,32}", serial or ""):
        raise ValueError(f"serial must be 8..32 of 0-9A-Z, got {serial!r}")
    if not 1 <= version <= 999:
        raise ValueError(f"version must be 1..999, got {version}")
    body = f"{LICENCE_ROOT}.{type_code}.{issuer_uscc}.{serial}.{version:03d}"
    return f"{body}.{check_character(body)}"


@dataclass(frozen=True)
class NumberParts:
    type_code: str
    issuer_uscc: str
    serial: str
    version: int


def parse_number(licence_no: str) -> NumberParts | None:
    """The parts of a national number whose check character is right; None otherwise."""
    match = NATIONAL_NUMBER.fullmatch(licence_no or "") if isinstance(licence_no, str) else None
    if match is None or check_character(licence_no[:-2]) != match.group(5):
        return None
    return NumberParts(match.group(1), match.group(2), match.group(3), int(match.group(4)))


def is_legacy_number(licence_no: str) -> bool:
    """``[<code>.]JS<region, 6 digits><yyyymmdd><serial, 6 digits>`` with a real date."""
    match = LEGACY_NUMBER.fullmatch(licence_no or "") if isinstance(licence_no, str) else None
    if not match:
        return False
    try:
        datetime.strptime(match.group(2), "%Y%m%d")
    except ValueError:
        return False
    return True


def is_well_formed(licence_no: str) -> bool:
    """A national number with its check character right, or an old ``JS`` one."""
    return parse_number(licence_no) is not None or is_legacy_number(licence_no)


def random_serial() -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(SERIAL_LENGTH))


def type_code_from(item_code: str | None) -> str:
    """A licence type code for an item the catalogue gives no licence type:
    the item code's letters and digits, upper case, at most 20 (the last 20,
    which keep the item's own serial); ``XK`` (许可) when that leaves fewer than 2."""
    letters = re.sub(r"[^0-9A-Z]", "", (item_code or "").upper())
    return letters[-20:] if len(letters) >= 2 else "XK"


@dataclass(frozen=True)
class LicenceType:
    """The licence an item issues: ``valid_years`` None means no end."""

    code: str
    name: str
    valid_years: int | None = None

    @classmethod
    def of_item(cls, item: Mapping[str, Any]) -> LicenceType:
        """From catalog's ``get_item`` (or a stored snapshot): its ``licence_type``,
        else one derived from the item's code (or id) and name, without end."""
        given = item.get("licence_type")
        if isinstance(given, Mapping) and TYPE_CODE.fullmatch(str(given.get("code") or "")):
            years = given.get("valid_years")
            return cls(
                code=given["code"],
                name=str(given.get("name") or item.get("name") or item.get("item_name") or ""),
                valid_years=int(years) if isinstance(years, int) and years > 0 else None,
            )
        return cls(
            code=type_code_from(item.get("code") or item.get("item_id")),
            name=str(item.get("name") or item.get("item_name") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "valid_years": self.valid_years}


def issuer_uscc_of(item: Mapping[str, Any]) -> str:
    """The item's ``issuer_uscc`` when the catalogue gives one, else the code
    its department is known by (``instances.default_issuer_uscc``)."""
    given = item.get("issuer_uscc")
    if isinstance(given, str) and licence_issuer(f"{LICENCE_ROOT}.00.{given}.00000000.001.0"):
        return given
    return default_issuer_uscc(str(item.get("department_code") or ""), item.get("region_code"))


def valid_until(valid_from: date, valid_years: int | None) -> date | None:
    """The last day of validity: the day before the anniversary ``valid_years``
    on (29 February counts from 28 February); None without end."""
    if not valid_years:
        return None
    try:
        anniversary = valid_from.replace(year=valid_from.year + valid_years)
    except ValueError:  # 29 February, in a year that has none
        anniversary = valid_from.replace(year=valid_from.year + valid_years, day=28)
    return date.fromordinal(anniversary.toordinal() - 1)


def period_status(valid_from: date | None, valid_to: date | None, on: date) -> str:
    """``current``, ``not_yet_valid`` or ``expired`` on day ``on``."""
    if valid_from is not None and on < valid_from:
        return "not_yet_valid"
    if valid_to is not None and on > valid_to:
        return "expired"
    return "current"


# ------------------------------------------------------------- the document


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) UTF-8 bytes of ``value``.

    ValueError for what JSON cannot carry the same way everywhere: NaN or an
    infinity, keys that are not strings, lone surrogates, other types, nesting
    deeper than ``MAX_DEPTH``.
    """
    parts: list[str] = []
    _write(value, parts, 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from error


# RFC 8785 escapes '"', '\\' and the control characters, \b \f \n \r \t by
# their short forms and the others as lowercase \u00XX, and nothing else:
# exactly json's encoder with ensure_ascii off (the C one where it is built).
_string = json.encoder.encode_basestring


def _number(value: float) -> str:
    """ECMAScript's Number::toString: the shortest digits that round-trip."""
    if not math.isfinite(value):
        raise ValueError("NaN and infinities are not JSON")
    if value == 0:
        return "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple))
    # value = 0.<digits> x 10^point
    point = len(digits) + int(exponent)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "")
        text += ("e+" if power > 0 else "e-") + str(abs(power))
    return ("-" if value < 0 else "") + text


def _write(value: Any, parts: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH}")
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        # Beyond 2**53 JSON numbers are doubles to every other reader.
        if abs(value) <= 2**53:
            parts.append(str(value))
        else:
            try:
                parts.append(_number(float(value)))
            except OverflowError as error:
                raise ValueError("a number beyond what JSON readers hold") from error
    elif isinstance(value, float):
        parts.append(_number(value))
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, entry in enumerate(value):
            if index:
                parts.append(",")
            _write(entry, parts, depth + 1)
        parts.append("]")
    elif isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object keys must be strings")
        parts.append("{")
        for index, key in enumerate(
            sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if index:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _write(value[key], parts, depth + 1)
        parts.append("}")
    else:
        raise ValueError(f"{type(value).__name__} is not JSON")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """ValueError for anything but unpadded base64url."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_document(body: Mapping[str, Any], sign: Sign) -> dict[str, Any]:
    """``{"licence": body, "signature": {alg, kid, value}}``: the signature is
    over ``canonical_json(body)``."""
    kid, value = sign(canonical_json(body))
    return {
        "licence": copy_json(dict(body)),
        "signature": {"alg": SIGNATURE_ALGORITHM, "kid": kid, "value": value},
    }


def _holder_view(holder_id: str, principal: Mapping[str, Any] | None) -> dict[str, Any]:
    """The holder as the document names it: a person by their account, an
    enterprise by its USCC. An ID number never goes into a document that
    travels: a principal known only by one is shown masked."""
    if principal and principal.get("kind") == "enterprise":
        return {"kind": "enterprise", "id": holder_id, "name": principal.get("name")}
    if re.fullmatch(r"\d{17}[\dX]", holder_id or ""):
        return {"kind": "person", "id": holder_id[:4] + "*" * 10 + holder_id[-4:], "name": None}
    name = principal.get("name") if principal else None
    return {"kind": "person", "id": holder_id, "name": name}


@dataclass(frozen=True)
class Licence:
    """An electronic licence. ``holder_id`` is the applicant's user id, or the
    uscc or user id of the party an agent applied for. ``document`` is the
    signed document (None only for a licence issued before licences were
    signed, until it is first read)."""

    licence_no: str
    application_id: str
    holder_id: str
    item_id: str
    item_name: str
    issued_at: datetime
    valid: bool = True
    licence_type: LicenceType | None = None
    issuer_uscc: str | None = None
    department_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    document: dict[str, Any] | None = field(default=None, compare=False)


class LicenceNumbers:
    """What an approval needs to issue a licence: a new number and a signature.

    ``sign(data) -> (kid, signature)`` signs with the issuing instance's key
    (the service layer's); ``taken(licence_no)`` says whether a number exists
    already (a random serial colliding is astronomically rare, but a number is
    never issued twice: the licence's primary key refuses it too).
    """

    def __init__(
        self,
        sign: Sign,
        *,
        taken: Callable[[str], bool] = lambda licence_no: False,
        serial: Callable[[], str] = random_serial,
    ):
        self._sign = sign
        self._taken = taken
        self._serial = serial

    def next(self, type_code: str, issuer_uscc: str, version: int = FIRST_VERSION) -> str:
        for _ in range(10):
            number = format_number(type_code, issuer_uscc, self._serial(), version)
            if not self._taken(number):
                return number
        raise RuntimeError("no free licence serial after 10 tries")

    def issue(
        self,
        *,
        application_id: str,
        holder_id: str,
        principal: Mapping[str, Any] | None,
        item_id: str,
        item_name: str,
        department_code: str,
        licence_type: LicenceType,
        issuer_uscc: str,
        content: Mapping[str, Any],
        issued_at: datetime,
        issued_on: date,
    ) -> Licence:
        """A new licence, numbered and signed, valid from ``issued_on``."""
        licence_no = self.next(licence_type.code, issuer_uscc)
        valid_to = valid_until(issued_on, licence_type.valid_years)
        body = document_body(
            licence_no=licence_no,
            licence_type=licence_type,
            holder=_holder_view(holder_id, principal),
            item_id=item_id,
            item_name=item_name,
            department_code=department_code,
            issuer_uscc=issuer_uscc,
            application_id=application_id,
            issued_on=issued_on,
            valid_from=issued_on,
            valid_to=valid_to,
            content=content,
        )
        return Licence(
            licence_no=licence_no,
            application_id=application_id,
            holder_id=holder_id,
            item_id=item_id,
            item_name=item_name,
            issued_at=issued_at,
            licence_type=licence_type,
            issuer_uscc=issuer_uscc,
            department_code=department_code,
            valid_from=issued_on,
            valid_to=valid_to,
            document=signed_document(body, self._sign),
        )

    # Kept for the code that formats numbers without issuing.
    format = staticmethod(format_number)
    is_well_formed = staticmethod(is_well_formed)


def document_body(
    *,
    licence_no: str,
    licence_type: LicenceType,
    holder: Mapping[str, Any],
    item_id: str,
    item_name: str,
    department_code: str,
    issuer_uscc: str | None,
    application_id: str,
    issued_on: date,
    valid_from: date,
    valid_to: date | None,
    content: Mapping[str, Any],
) -> dict[str, Any]:
    """What a licence says, as signed: dates as ISO days, ``valid_to`` null
    for no end, ``content`` the particulars the case approved (its form)."""
    return {
        "licence_no": licence_no,
        "version": parse_number(licence_no).version if parse_number(licence_no) else 1,
        "licence_type": {"code": licence_type.code, "name": licence_type.name},
        "holder": dict(holder),
        "item": {"item_id": item_id, "name": item_name},
        "issuer": {"department_code": department_code, "uscc": issuer_uscc},
        "application_id": application_id,
        "issued_on": issued_on.isoformat(),
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else None,
        "content": copy_json(dict(content)),
    }
