"""Electronic licences: reading, verifying, revoking and reusing them.

A licence is issued by the approval that ends its case (``Application.act``,
with :func:`licence_numbers`): numbered, signed with this instance's key and
stored with its document in the same transaction. Here:

- :func:`get_licence`: the document and its QR payload, for the holder (the
  applicant, or the party an agent applied for), staff of the issuing
  department and operators;
- :func:`verify_licence` (by number) and :func:`verify_document` (a document
  someone presents): the signature, the register, the validity period and the
  revocation, each named when it fails; never an error for a well-formed
  document that fails a check;
- :func:`revoke_licence`: the issuing department's dept_admin (``licence_revoked``);
- :func:`held_licence`: a valid licence a party holds (material reuse, licence
  steps), and :func:`licence_materials`, which checks the ``{"licence_no": ...}``
  materials of a new application, asking the issuing instance when it is
  another (``find_elsewhere``).

Licences issued before documents were signed (old ``JS...`` numbers) get their
document, signed with the instance's current key, the first time it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from services.common import clock, errors, instances
from services.common.values import copy_json
from services.workflow.adapters.licence_keys import signature_holds
from services.workflow.domain import exceptions as domain
from services.workflow.domain.events import LicenceRevoked
from services.workflow.domain.licences import (
    SIGNATURE_ALGORITHM,
    LicenceNumbers,
    LicenceType,
    canonical_json,
    document_body,
    is_legacy_number,
    is_well_formed,
    period_status,
    signed_document,
)
from services.workflow.domain.model import DEPT_ADMIN, china_today, local_date

VERIFY_PATH = "/api/v1/licences/{licence_no}/verify"
# What each check answers when it passes.
PASSING = {
    "signature": "valid",
    "register": "found",
    "period": "current",
    "revocation": "not_revoked",
}
REASON_MAX = 1000

# (licence_no, holder_ids, licence_type, on) -> {"licence": {...} | None,
# "problem": str | None}, asked of the instance that issued the licence; None
# when no other instance holds it.
Elsewhere = Callable[[str, list[str], str | None, date], Mapping | None]


def licence_numbers(uow) -> LicenceNumbers:
    """Numbers and signatures for licences issued in this transaction: the
    instance's key (made on the first issue) and the register's numbers."""
    return LicenceNumbers(uow.licence_keys.sign, taken=uow.licences.exists)


# ----------------------------------------------------------------- reading


def get_licence(uow, actor: Mapping, licence_no: str) -> dict[str, Any]:
    """The licence's signed document, its QR payload and its state. NotFound
    (never Forbidden, so a number's existence does not leak) unless the actor
    holds it, applied for it, is staff of the issuing department or an
    operator."""
    with uow:
        row = uow.licences.get(licence_no)
        if row is None or not _may_read(uow, actor, row):
            raise domain.NotFound(f"licence {licence_no} not found")
        document = _document(uow, row)
        uow.commit()
    return {
        "licence_no": row["licence_no"],
        "document": document,
        "qr_payload": qr_payload(uow.config, row["licence_no"]),
        "valid": bool(row["valid"]) and row["revoked_at"] is None,
        "revoked_at": row["revoked_at"],
        "revocation_reason": row["revocation_reason"],
    }


def qr_payload(config: Mapping, licence_no: str) -> str:
    """What the licence's QR code holds: the public verify URL of its number
    (``PORTAL_URL`` + ``/api/v1/licences/<number>/verify``). A phone that scans
    it gets the issuer's answer as it stands now (signature, period,
    revocation): a QR copied onto a forged paper still shows the real licence."""
    base = str((config or {}).get("PORTAL_URL") or "").rstrip("/")
    return base + VERIFY_PATH.format(licence_no=licence_no)


def _may_read(uow, actor: Mapping, row: Mapping) -> bool:
    """The holder (the applicant; an enterprise's owner and members, by
    workflow's read model of identity's membership events), staff of the
    issuing department, operators."""
    kind = actor.get("kind")
    if kind == "operator":
        return True
    if kind == "staff":
        return bool(actor.get("department_code")) and (
            actor.get("department_code") == row["department_code"]
        )
    user_id = actor.get("user_id")
    if not user_id:
        return False
    if user_id in (row["applicant_id"], row["holder_id"]):
        return True
    return bool(row["holder_id"]) and row["holder_id"] in uow.memberships.enterprises_of(user_id)


def list_licences(uow, actor: Mapping) -> dict[str, list[Mapping]]:
    """Licences issued on the actor's cases or held by them, newest first."""
    user_id = actor.get("user_id")
    if not user_id:
        raise domain.Forbidden("a signed-in user is required")
    with uow:
        return {"items": [_summary(row) for row in uow.licences.list_for_applicant(user_id)]}


def _summary(row: Mapping) -> dict[str, Any]:
    return {
        **dict(row),
        "valid": bool(row["valid"]) and row["revoked_at"] is None,
        "licence_type": _type_of(row),
    }


def _type_of(row: Mapping) -> dict | None:
    if not row["licence_type_code"]:
        return None
    return {"code": row["licence_type_code"], "name": row["licence_type_name"] or ""}


def _document(uow, row: Mapping) -> dict[str, Any]:
    """The stored document; a licence issued before documents were signed is
    given one now (kept, so it is signed once)."""
    if row["document"]:
        return copy_json(row["document"])
    licence_type = LicenceType.of_item({"item_id": row["item_id"], "name": row["item_name"]})
    if row["licence_type_code"]:
        licence_type = LicenceType(row["licence_type_code"], row["licence_type_name"] or "")
    issued_on = local_date(_aware(row["issued_at"]))
    body = document_body(
        licence_no=row["licence_no"],
        licence_type=licence_type,
        holder={"kind": None, "id": row["holder_id"] or row["holder_masked"], "name": None},
        item_id=row["item_id"],
        item_name=row["item_name"],
        department_code=row["department_code"],
        issuer_uscc=row["issuer_uscc"],
        application_id=row["application_id"],
        issued_on=issued_on,
        valid_from=row["valid_from"] or issued_on,
        valid_to=row["valid_to"],
        content={},
    )
    document = signed_document(body, uow.licence_keys.sign)
    uow.licences.store_document(row["licence_no"], document)
    return document


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive instants; every one stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------- verifying


def verify_licence(uow, licence_no: str, *, on: date | None = None) -> dict[str, Any]:
    """Public check of a number: NotFound when this instance never issued it;
    otherwise each check and whether all passed.

    A number is a key to the register's particulars only when it cannot be
    guessed (a national number's serial is random). An old ``JS`` number's
    serial counted up per region and day: by that number alone the answer
    says whether it is valid, and withholds the particulars (holder, item,
    dates, revocation); presenting the signed document shows them."""
    with uow:
        row = uow.licences.get(licence_no)
        if row is None:
            raise domain.NotFound(f"licence {licence_no} not found")
        document = _document(uow, row)
        answer = _checked(uow, row, document, on or china_today())
        uow.commit()
    if is_legacy_number(licence_no):
        answer.update(dict.fromkeys(PARTICULARS))
    return answer


# What a check tells of the register's row beside its verdict.
PARTICULARS = (
    "holder_masked",
    "item_name",
    "licence_type",
    "issuer_uscc",
    "issued_at",
    "valid_from",
    "valid_to",
    "revoked_at",
    "revocation_reason",
)


def verify_document(uow, document: Mapping[str, Any], *, on: date | None = None) -> dict[str, Any]:
    """Check a document someone presents: a copy that was altered in any way
    fails ``signature``; one this instance never issued fails ``register``.
    Always an answer (the contract has refused a malformed document)."""
    licence_no = str(document["licence"].get("licence_no"))
    with uow:
        row = uow.licences.get(licence_no) if is_well_formed(licence_no) else None
        answer = _checked(uow, row, document, on or china_today())
    if row is None:
        answer["licence_no"] = licence_no
    return answer


def _checked(uow, row: Mapping | None, document: Mapping, on: date) -> dict[str, Any]:
    body = document.get("licence") or {}
    checks = {
        "signature": _signature(uow, document),
        "register": "unknown",
        "period": "unknown",
        "revocation": "unknown",
    }
    if row is not None:
        stored = row["document"] or {}
        checks["register"] = "found" if not stored or stored.get("licence") == body else "differs"
        valid_from = row["valid_from"] or local_date(_aware(row["issued_at"]))
        checks["period"] = period_status(valid_from, row["valid_to"], on)
        checks["revocation"] = (
            "revoked" if row["revoked_at"] is not None or not row["valid"] else "not_revoked"
        )
    failed = [name for name, passing in PASSING.items() if checks[name] != passing]
    answer: dict[str, Any] = {
        "licence_no": row["licence_no"] if row is not None else body.get("licence_no"),
        "valid": not failed,
        "failed": failed,
        "checks": checks,
        "holder_masked": None,
        "item_name": None,
        "licence_type": None,
        "issuer_uscc": None,
        "issued_at": None,
        "valid_from": None,
        "valid_to": None,
        "revoked_at": None,
        "revocation_reason": None,
    }
    if row is not None:
        answer.update(
            holder_masked=row["holder_masked"],
            item_name=row["item_name"],
            licence_type=_type_of(row),
            issuer_uscc=row["issuer_uscc"],
            issued_at=row["issued_at"],
            valid_from=row["valid_from"],
            valid_to=row["valid_to"],
            revoked_at=row["revoked_at"],
            revocation_reason=row["revocation_reason"],
        )
    return answer


def _signature(uow, document: Mapping) -> str:
    """``valid``; ``invalid`` (altered, or not signed as we sign);
    ``unknown_key`` (no key of this instance has that id)."""
    signature = document.get("signature")
    if not isinstance(signature, Mapping) or signature.get("alg") != SIGNATURE_ALGORITHM:
        return "invalid"
    jwk = uow.licence_keys.public_key(str(signature.get("kid")))
    if jwk is None:
        return "unknown_key"
    try:
        data = canonical_json(document.get("licence"))
    except ValueError:
        return "invalid"
    return "valid" if signature_holds(jwk, data, str(signature.get("value"))) else "invalid"


def licence_jwks(uow) -> dict[str, list[dict]]:
    """This instance's public licence keys (the gateway merges every instance's)."""
    with uow:
        return {"keys": uow.licence_keys.public_keys()}


# --------------------------------------------------------------- revoking


def revoke_licence(
    uow, actor: Mapping, licence_no: str, reason: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The issuing department's dept_admin revokes a licence (``licence_revoked``);
    it fails verification from now on. NotFound for a licence the actor may
    not see; Forbidden for one they see but may not revoke; InvalidTransition
    when it is revoked already."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise domain.ValidationFailed({"reason": "must say why the licence is revoked"})
    now = now or clock.now()
    with uow:
        row = uow.licences.get_for_update(licence_no)
        if row is None or not _may_read(uow, actor, row):
            raise domain.NotFound(f"licence {licence_no} not found")
        if not (
            actor.get("kind") == "staff"
            and actor.get("department_code") == row["department_code"]
            and DEPT_ADMIN in (actor.get("roles") or ())
        ):
            raise domain.Forbidden("a licence is revoked by a dept_admin of its issuing department")
        if row["revoked_at"] is not None:
            raise domain.InvalidTransition(f"licence {licence_no} is revoked already")
        uow.licences.revoke(licence_no, now, reason[:REASON_MAX])
        uow.emit(
            LicenceRevoked(
                licence_no=licence_no,
                reason=reason[:REASON_MAX],
                application_id=row["application_id"],
                department_code=row["department_code"],
                revoked_at=now,
            )
        )
        uow.commit()
    return verify_licence(uow, licence_no, on=local_date(now))


# ---------------------------------------------------------------- reusing


def held_licence(
    uow,
    licence_no: str,
    holder_ids: Iterable[str],
    *,
    licence_type: str | None = None,
    on: date | None = None,
) -> dict[str, Any] | None:
    """A valid, unrevoked licence of this instance held on ``on`` (today) by
    one of ``holder_ids``, of type ``licence_type`` when given:
    ``{licence_no, licence_type_code, name, holder_id, valid_to}``; None
    otherwise. Call it inside the unit of work's transaction."""
    found, _ = licence_held(uow, licence_no, holder_ids, licence_type=licence_type, on=on)
    return found


def licence_held(
    uow,
    licence_no: str,
    holder_ids: Iterable[str],
    *,
    licence_type: str | None = None,
    on: date | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """(the held licence, None), or (None, why it does not count)."""
    row = uow.licences.get(licence_no) if is_well_formed(licence_no) else None
    if row is None:
        return None, "no such licence"
    if row["revoked_at"] is not None or not row["valid"]:
        return None, "the licence is revoked"
    status = period_status(
        row["valid_from"] or local_date(_aware(row["issued_at"])),
        row["valid_to"],
        on or china_today(),
    )
    if status != "current":
        return (
            None,
            "the licence has expired" if status == "expired" else "the licence is not valid yet",
        )
    holders = {holder for holder in holder_ids if holder}
    if not row["holder_id"] or row["holder_id"] not in holders:
        return None, "the licence is not held by the applicant or the party applied for"
    if licence_type is not None and row["licence_type_code"] != licence_type:
        return None, f"the licence is not of type {licence_type}"
    if row["document"] and _signature(uow, row["document"]) != "valid":
        return None, "the licence's signature does not hold"
    return {
        "licence_no": row["licence_no"],
        "licence_type_code": row["licence_type_code"],
        "name": row["licence_type_name"] or row["item_name"],
        "holder_id": row["holder_id"],
        "valid_to": row["valid_to"],
    }, None


def check_held_licence(
    uow,
    licence_no: str,
    holder_ids: list[str],
    licence_type: str | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """Another instance asks whether a licence of this one is held (material
    reuse): ``{"licence": {...} | None, "problem": str | None}``."""
    with uow:
        found, problem = licence_held(uow, licence_no, holder_ids, licence_type=licence_type, on=on)
    return {"licence": found, "problem": problem}


def holder_ids_of(actor: Mapping, on_behalf_of: Any) -> list[str]:
    """Who may hold a licence a new application reuses: the applicant, and
    the party an agent applies for (an enterprise's USCC, a person's user id)."""
    ids = [actor.get("user_id")]
    if isinstance(on_behalf_of, Mapping):
        ids.append(on_behalf_of.get("uscc") or on_behalf_of.get("user_id"))
    return [holder for holder in ids if isinstance(holder, str) and holder]


def licence_materials(
    uow,
    materials: Any,
    holder_ids: list[str],
    *,
    elsewhere: Elsewhere | None = None,
    on: date | None = None,
) -> Any:
    """``materials`` with each ``{"licence_no": ...}`` checked and completed:
    its name (when not given) and ``licence`` ({licence_no, licence_type_code,
    name, holder_id, valid_to}) from the licence. A licence of another instance
    is asked of it (``elsewhere``). ValidationFailed naming
    ``materials.<i>.licence_no`` for each one that is not a valid licence of
    the applicant or the party applied for. Anything else is left for the
    domain's checks."""
    if not isinstance(materials, list):
        return materials
    on = on or china_today()
    problems: dict[str, str] = {}
    completed = []
    for index, material in enumerate(materials):
        if not isinstance(material, Mapping) or "licence_no" not in material:
            completed.append(material)
            continue
        licence_no = material.get("licence_no")
        field = f"materials.{index}.licence_no"
        if not isinstance(licence_no, str) or not is_well_formed(licence_no):
            problems[field] = "must be a licence number"
            completed.append(material)
            continue
        with uow:
            found, problem = licence_held(uow, licence_no, holder_ids, on=on)
            local = uow.licences.exists(licence_no)
        if not local and elsewhere is not None:
            answer = elsewhere(licence_no, holder_ids, None, on)
            if answer is not None:
                found, problem = answer.get("licence"), answer.get("problem")
        if found is None:
            problems[field] = problem or "no such licence"
            completed.append(material)
            continue
        entry = dict(material)
        if not isinstance(entry.get("name"), str) or not entry["name"].strip():
            entry["name"] = found["name"]
        entry["licence"] = {
            **found,
            "valid_to": found["valid_to"].isoformat()
            if isinstance(found["valid_to"], date)
            else found["valid_to"],
        }
        completed.append(entry)
    if problems:
        raise domain.ValidationFailed(problems)
    return completed


def find_elsewhere(
    call: Callable[..., Any],
    me: str,
    instance_departments: list[str],
    departments: Callable[[], list[Mapping]],
) -> Elsewhere:
    """``elsewhere`` for :func:`licence_materials`: the issuing instance (by
    the number's issuer, ``instances.licence_instance``; every other instance
    when no department has that USCC), asked with ``call(instance, method,
    **arguments)``. None when only this instance could hold it."""

    def ask(licence_no: str, holder_ids: list[str], licence_type: str | None, on: date):
        owner = instances.licence_instance(licence_no, departments(), instance_departments)
        every = [instances.SHARED_WORKFLOW] + [
            instances.instance_for(code) for code in instance_departments
        ]
        targets = [owner] if owner is not None else every
        for instance in targets:
            if instance == me:
                continue
            try:
                answer = call(
                    instance,
                    "check_held_licence",
                    licence_no=licence_no,
                    holder_ids=list(holder_ids),
                    licence_type=licence_type,
                    on=on.isoformat(),
                )
            except errors.NotFound:
                continue
            if answer.get("licence") is not None or answer.get("problem") != "no such licence":
                return answer
        return None

    return ask
