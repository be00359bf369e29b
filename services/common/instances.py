"""Workflow instances and the ids they issue.

The shared provincial instance is ``workflow``; a department's own instance is
``workflow-<code>`` (config ``DEPARTMENT_CODE``). A department instance starts
every application id it issues with ``<code>.`` (``js-ga.3f2a...``); the shared
instance's ids have no prefix. So an application id says which instance holds
it, and the gateway routes a command about one case without asking anyone.

Licence numbers have the national shape (GB/T 36904,
``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>``), which
has no room for a prefix: the issuer's unified social credit code names the
issuing department, and the department names the instance (its own when it runs
one, else the shared one); see :func:`licence_instance`. Numbers issued before
(``JS<region><yyyymmdd><serial>``, ``js-ga.JS...`` on a department instance)
keep their prefix rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from services.common import uscc
from services.common.errors import NotFound

SHARED_WORKFLOW = "workflow"
INSTANCE_PREFIX = "workflow-"
ID_SEPARATOR = "."

# Lowercase letters, digits and hyphens, starting with a letter or digit. At most
# 24 characters so that "<code>." plus a 32-character id fits the 64-character
# id columns.
MAX_CODE_LENGTH = 24
_CODE = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_CODE_LENGTH - 1}}}")


def is_department_code(value: object) -> bool:
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def department_code(value: object) -> str:
    """A validated department code; ValueError naming the rule otherwise."""
    if not is_department_code(value):
        raise ValueError(
            f"department code must be lowercase letters, digits and hyphens "
            f"(1..{MAX_CODE_LENGTH}, not starting with a hyphen), got {value!r}"
        )
    return value


def instance_for(code: str | None) -> str:
    """``workflow`` for no code, ``workflow-<code>`` for a department's (validated)."""
    code = (code or "").strip()
    return f"{INSTANCE_PREFIX}{department_code(code)}" if code else SHARED_WORKFLOW


def code_of(instance: str) -> str | None:
    """The department code of ``workflow-<code>``; None for ``workflow``."""
    if instance == SHARED_WORKFLOW:
        return None
    if instance.startswith(INSTANCE_PREFIX) and is_department_code(
        instance[len(INSTANCE_PREFIX) :]
    ):
        return instance[len(INSTANCE_PREFIX) :]
    raise ValueError(f"not a workflow instance name: {instance!r}")


def id_prefix(instance: str) -> str:
    """What the instance puts before the ids it issues: ``""`` or ``"<code>."``."""
    code = code_of(instance)
    return f"{code}{ID_SEPARATOR}" if code else ""


def workflow_instance_of(identifier: str) -> str:
    """The instance that issued an application id or a licence number of the
    old ``[<code>.]JS...`` form (a dotted national number: :func:`licence_instance`).

    ``js-ga.3f2a...`` -> ``workflow-js-ga``; an id without a prefix -> ``workflow``.
    NotFound for a malformed prefix (no such id can exist).
    """
    if not isinstance(identifier, str) or not identifier:
        raise NotFound(f"{identifier!r} not found")
    if ID_SEPARATOR not in identifier:
        return SHARED_WORKFLOW
    code, _, rest = identifier.partition(ID_SEPARATOR)
    if not is_department_code(code) or not rest or ID_SEPARATOR in rest:
        raise NotFound(f"{identifier} not found")
    return f"{INSTANCE_PREFIX}{code}"


def parse_departments(value: object) -> list[str]:
    """``"js-ga, ks-xzsp"`` (or a list) -> ``["js-ga", "ks-xzsp"]``, validated,
    without duplicates; empty or None -> ``[]``."""
    if value is None:
        return []
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    codes: list[str] = []
    for part in parts:
        code = str(part).strip()
        if code and code not in codes:
            codes.append(department_code(code))
    return codes


# ------------------------------------------------------------------ licences

# GB/T 36904: the licence identifier's root (national, licence, Jiangsu-wide
# electronic licence arc), then type code, issuer USCC, serial, version, check.
LICENCE_ROOT = "1.2.156.3005.2"
_NATIONAL_LICENCE_NO = re.compile(
    re.escape(LICENCE_ROOT)
    + r"\.([0-9A-Z]{2,20})\.([0-9A-HJ-NPQRTUWXY]{18})\.([0-9A-Z]{8,32})\.([0-9]{3})\.([0-9A-Z])"
)


def default_issuer_uscc(department_code: str, region_code: str) -> str:
    """The code a department is known by when the catalogue gives it none: a
    government body's shape (``11``, its region, nine characters derived from
    its department code, the check character). Stable, so the numbers it
    issued keep routing to it; a real code in the catalogue replaces it for
    new licences."""
    region = region_code if re.fullmatch(r"[0-9]{6}", region_code or "") else "320000"
    digest = hashlib.sha256(f"tongban/department/{department_code}".encode()).digest()
    body = "".join(uscc.ALPHABET[byte % 31] for byte in digest[:9])
    first17 = f"11{region}{body}"
    return first17 + uscc.check_char(first17)


def department_uscc(department: Mapping) -> str:
    """A catalogue department's USCC: its own, else :func:`default_issuer_uscc`."""
    own = department.get("uscc")
    if isinstance(own, str) and uscc.PATTERN.fullmatch(own):
        return own
    return default_issuer_uscc(str(department.get("code") or ""), department.get("region_code"))


def licence_issuer(licence_no: object) -> str | None:
    """The issuer USCC of a national (dotted) licence number; None for any
    other string (an old ``JS`` number, or nonsense)."""
    if not isinstance(licence_no, str):
        return None
    match = _NATIONAL_LICENCE_NO.fullmatch(licence_no)
    return match.group(2) if match else None


def licence_instance(
    licence_no: str, departments: Iterable[Mapping], instance_departments: Iterable[str]
) -> str | None:
    """The instance that issued ``licence_no``.

    An old number by its prefix (:func:`workflow_instance_of`); a national
    number by its issuer: the catalogue department with that USCC
    (``departments``: the catalogue's, ``{code, region_code, uscc?}``) runs its
    own instance when it is one of ``instance_departments``
    (WORKFLOW_DEPARTMENTS), else the shared one does. None when no department
    has that USCC (the caller may ask every instance). NotFound for a string
    that is neither kind of number.
    """
    uscc = licence_issuer(licence_no)
    if uscc is None:
        return workflow_instance_of(licence_no)
    running = set(instance_departments)
    for department in departments:
        if department_uscc(department) == uscc:
            code = department.get("code")
            return instance_for(code) if code in running else SHARED_WORKFLOW
    return None
