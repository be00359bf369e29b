"""A read of a full ID number by someone other than its owner (plain Python).

Who read it (``accessor_id``, ``accessor_kind``: citizen, staff, operator, or a
service reading for an automatic decision), whose it is (``subject_id``,
``subject_kind``: a user's own number, or the person a workflow case's agent
applied for by number, named by the application id), why (``purpose``), when,
and which service read it. identity keeps the trail; operators read it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.common.pii import ACCESSOR_KINDS, PURPOSES, SUBJECT_KINDS

from .exceptions import ValidationFailed


@dataclass(frozen=True)
class PiiAccess:
    accessor_id: str
    accessor_kind: str
    subject_id: str
    subject_kind: str
    purpose: str
    service: str
    at: datetime
    access_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        problems = {}
        if self.accessor_kind not in ACCESSOR_KINDS:
            problems["accessor_kind"] = f"must be one of {', '.join(ACCESSOR_KINDS)}"
        if self.subject_kind not in SUBJECT_KINDS:
            problems["subject_kind"] = f"must be one of {', '.join(SUBJECT_KINDS)}"
        if self.purpose not in PURPOSES:
            problems["purpose"] = f"must be one of {', '.join(PURPOSES)}"
        for name in ("accessor_id", "subject_id", "service"):
            if not getattr(self, name):
                problems[name] = "is required"
        if self.at.tzinfo is None:
            problems["at"] = "must be an instant with its offset"
        if problems:
            raise ValidationFailed(problems)

    def to_dict(self) -> dict:
        return {
            "access_id": self.access_id,
            "accessor_id": self.accessor_id,
            "accessor_kind": self.accessor_kind,
            "subject_id": self.subject_id,
            "subject_kind": self.subject_kind,
            "purpose": self.purpose,
            "service": self.service,
            "at": self.at,
        }
