"""Whom a case is for (代办制): the principal, and who may follow and act on it.

Plain Python. A case applied for oneself has no principal. An agent (a staff
member with the role ``agent``, or any citizen holding a mandate) applies
``on_behalf_of`` an enterprise ``{kind: enterprise, uscc}`` or a person
``{kind: person, user_id}``; identity says whether they may
(``authorise_principal``) and names the principal, which the case keeps as
``{kind, uscc|user_id, name}`` with the mandate's id (none when the agent is
the enterprise's owner or member).

The actor mapping the rules read may carry, beside the gateway's fields:

- ``enterprises``: the credit codes of the enterprises the actor owns or is a
  member of (workflow's read model of identity's events), so every member
  follows the enterprise's cases and acts on them;
- ``mandate_lapsed``: True when identity no longer lets the actor act for the
  principal of the case at hand (revoked, expired): the agent still sees the
  case, but acts on it no more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .exceptions import Forbidden

ENTERPRISE = "enterprise"
PERSON = "person"
PRINCIPAL_KINDS = (ENTERPRISE, PERSON)
AGENT_ROLE = "agent"
ENTERPRISES = "enterprises"
MANDATE_LAPSED = "mandate_lapsed"

_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_USER_ID = re.compile(r"[^\s]{1,64}")


def check_on_behalf_of(value: Any) -> tuple[dict | None, dict[str, str]]:
    """The principal asked for: ``{kind: enterprise, uscc}`` or ``{kind: person,
    user_id}`` (None for oneself), and the problems, each named by its field."""
    if value is None:
        return None, {}
    if not isinstance(value, Mapping):
        return None, {"on_behalf_of": "must be an object with a kind"}
    kind = value.get("kind")
    if kind == ENTERPRISE:
        uscc = value.get("uscc")
        if not isinstance(uscc, str) or not _USCC.fullmatch(uscc):
            return None, {"on_behalf_of.uscc": "must be an 18-character unified social credit code"}
        return {"kind": ENTERPRISE, "uscc": uscc}, {}
    if kind == PERSON:
        user_id = value.get("user_id")
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            return None, {"on_behalf_of.user_id": "must be the person's user id"}
        return {"kind": PERSON, "user_id": user_id}, {}
    return None, {"on_behalf_of.kind": "must be enterprise or person"}


def check_principal(value: Any) -> tuple[dict | None, dict[str, str]]:
    """The principal as identity named it (``{kind, uscc|user_id, name}``)."""
    asked, problems = check_on_behalf_of(value)
    if asked is None or problems:
        return asked, problems
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        return None, {"on_behalf_of.name": "is required"}
    return {**asked, "name": name.strip()}, {}


def check_submitter(actor: Mapping[str, Any], on_behalf_of: Any) -> None:
    """Citizens apply for themselves or for others; staff with the role
    ``agent`` only for others. Forbidden otherwise."""
    if not actor.get("user_id"):
        raise Forbidden("a signed-in user is required")
    kind = actor.get("kind")
    if kind == "citizen":
        return
    if kind == "staff" and AGENT_ROLE in (actor.get("roles") or ()):
        if on_behalf_of is None:
            raise Forbidden("an agent applies only on behalf of someone (on_behalf_of)")
        return
    raise Forbidden("only citizens and agents submit applications")


def is_oneself(actor: Mapping[str, Any], asked: Mapping[str, Any] | None) -> bool:
    """A citizen naming themself as the person they apply for."""
    return (
        asked is not None
        and asked.get("kind") == PERSON
        and actor.get("kind") == "citizen"
        and asked.get("user_id") == actor.get("user_id")
    )


def holder_of(principal: Mapping[str, Any] | None, applicant_id: str) -> str:
    """Whose the case's licence is: the enterprise's credit code, the person's
    user id, else the applicant's user id. (Cases from before principals had
    accounts name a person by ID number only: their applicant holds it.)"""
    if not principal:
        return applicant_id
    if principal.get("kind") == ENTERPRISE and principal.get("uscc"):
        return principal["uscc"]
    if principal.get("kind") == PERSON and principal.get("user_id"):
        return principal["user_id"]
    return applicant_id


def speaks_for(principal: Mapping[str, Any] | None, actor: Mapping[str, Any]) -> bool:
    """The actor is the principal: the person themself, or the enterprise's
    owner or a member of it (``actor["enterprises"]``)."""
    if not principal or actor.get("kind") != "citizen" or not actor.get("user_id"):
        return False
    if principal.get("kind") == PERSON:
        return principal.get("user_id") == actor["user_id"]
    if principal.get("kind") == ENTERPRISE:
        return principal.get("uscc") in (actor.get(ENTERPRISES) or ())
    return False


def principal_user_id(principal: Mapping[str, Any] | None) -> str | None:
    """The person's user id when the principal is a person."""
    if principal and principal.get("kind") == PERSON:
        return principal.get("user_id")
    return None
