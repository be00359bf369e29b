"""The trail of ID numbers read by anyone but their owner.

identity records its own reads (``person_facts``) in the transaction that
reads the number; other services record theirs by emitting ``pii_accessed``
(workflow), which identity files here once per event. Operators read the
trail, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.common import errors
from services.common.pii import AUTOMATIC_DECISION, SUBJECT_USER
from services.identity.domain.pii_access import PiiAccess

CONSUMER_PII_ACCESSED = "identity.on_pii_accessed"
IDENTITY = "identity"
# person_facts' accessor when the caller names none: some service's decision.
UNNAMED_ACCESSOR = "unnamed"
SERVICE = "service"


def read_of_user(
    user_id: str,
    at: datetime,
    *,
    purpose: str | None = None,
    accessor_id: str | None = None,
    accessor_kind: str | None = None,
) -> PiiAccess | None:
    """The record of identity reading ``user_id``'s number for a caller; None
    when the caller is the user themself (their own number is no one else's
    read)."""
    if accessor_id is not None and accessor_id == user_id:
        return None
    return PiiAccess(
        accessor_id=accessor_id or UNNAMED_ACCESSOR,
        accessor_kind=accessor_kind or SERVICE,
        subject_id=user_id,
        subject_kind=SUBJECT_USER,
        purpose=purpose or AUTOMATIC_DECISION,
        service=IDENTITY,
        at=at,
    )


def on_pii_accessed(uow, envelope: Mapping[str, Any]) -> bool:
    """File another service's read (``workflow.pii_accessed``), once per event;
    True when it was filed now."""
    payload = envelope["payload"]
    access = PiiAccess(
        accessor_id=payload["accessor_id"],
        accessor_kind=payload["accessor_kind"],
        subject_id=payload["subject_id"],
        subject_kind=payload["subject_kind"],
        purpose=payload["purpose"],
        service=payload["service"],
        at=payload["at"],
    )
    with uow:
        if not uow.first_delivery(envelope, CONSUMER_PII_ACCESSED):
            return False
        uow.pii_access.add(access)
        uow.commit()
    return True


def list_pii_access(
    uow,
    actor: Mapping[str, Any],
    subject_id: str | None = None,
    accessor_id: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """A page of the reads of ID numbers, newest first (of ``subject_id``'s
    number, by ``accessor_id``, or both); operators only."""
    if actor.get("kind") != "operator":
        raise errors.Forbidden("the trail of ID numbers read is for operators")
    with uow:
        found, total = uow.pii_access.page(
            subject_id=subject_id, accessor_id=accessor_id, page=page, page_size=page_size
        )
    return {
        "items": [access.to_dict() for access in found],
        "page": page,
        "page_size": page_size,
        "total": total,
    }
