"""Use cases of the signing keys and of what the gateways load at their start.

A rotation adds a key published at once that signs ``signing_key_publish_lead``
later (see :mod:`services.identity.domain.signing_keys`); a key whose tokens
have all expired is marked retired. Both are safe with replicas: an insert of a
second successor of the same key fails on the unique ``follows``, and marking a
key retired is conditional. No private key leaves this service.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from services.common.messaging.envelope import utcnow
from services.identity.domain import signing_keys
from services.identity.domain.events import SigningKeyAdded, SigningKeyRetired
from services.identity.domain.exceptions import NotPermitted
from services.identity.domain.model import UserKind
from services.identity.domain.signing_keys import KeySchedule

log = logging.getLogger(__name__)


def rotate_signing_key(uow, crypto, actor: dict, now: datetime | None = None) -> dict:
    """An operator adds a signing key: ``{kid, signs_from, published_kids}``.

    The key is in the JWKS at once and signs from ``signs_from`` on. When a key
    is pending already, that one is answered and none is added. Emits
    ``signing_key_added``. Forbidden unless the actor is an operator.
    """
    if actor.get("kind") != UserKind.OPERATOR:
        raise NotPermitted("only an operator may rotate the signing keys")
    now = now or utcnow()
    crypto.keyring.keys(uow, now=now)  # the first key, should there be none
    added = _rotate(uow, crypto, now)
    with uow:
        schedules = uow.signing_keys.schedules()
    log.info(
        "signing key rotated",
        extra={"kid": added.kid, "by": actor.get("user_id")},
    )
    return {
        "kid": added.kid,
        "signs_from": added.signs_from,
        "published_kids": [key.kid for key in signing_keys.published(schedules, now)],
    }


def _rotate(uow, crypto, now: datetime) -> KeySchedule:
    """The key added, or the one already pending."""
    with uow:
        pending = signing_keys.pending_key(uow.signing_keys.schedules(), now)
    if pending is not None:
        return pending
    created = crypto.keyring.generate()
    with uow:
        schedules = uow.signing_keys.schedules()
        pending = signing_keys.pending_key(schedules, now)
        if pending is not None:
            return pending
        rotation = signing_keys.rotate(
            schedules,
            created.kid,
            now,
            publish_lead=crypto.signing_key_publish_lead,
            token_lifetime=crypto.verifiable_for,
        )
        try:
            uow.signing_keys.add(crypto.keyring.seal(created, rotation.added))
        except IntegrityError:
            uow.rollback()
            log.info("another replica rotated the signing key first")
        else:
            for older in rotation.scheduled:
                uow.signing_keys.schedule_retirement(older.kid, older.retires_at)
            uow.emit(SigningKeyAdded(kid=created.kid, signs_from=rotation.added.signs_from))
            uow.commit()
            return rotation.added
    with uow:
        pending = signing_keys.pending_key(uow.signing_keys.schedules(), now)
    if pending is None:  # the other replica's key signs already: nothing to add now
        raise RuntimeError("rotation lost to another replica's key, which is not pending")
    return pending


def list_signing_keys(
    uow, actor: dict, page: int = 1, page_size: int = 20, now: datetime | None = None
) -> dict:
    """A page of the signing keys, newest first, with their status (operators)."""
    if actor.get("kind") != UserKind.OPERATOR:
        raise NotPermitted("only an operator may list the signing keys")
    now = now or utcnow()
    with uow:
        schedules = uow.signing_keys.schedules()
    views = signing_keys.views(schedules, now)
    start = (page - 1) * page_size
    return {
        "items": views[start : start + page_size],
        "page": page,
        "page_size": page_size,
        "total": len(views),
    }


def keep_signing_keys(uow, crypto, now: datetime | None = None) -> dict:
    """The schedule's round: add a key when the signing key signed for
    ``SIGNING_KEY_ROTATION_DAYS`` and none is pending, and mark retired the keys
    whose tokens have all expired (``signing_key_retired`` for each)."""
    now = now or utcnow()
    crypto.keyring.keys(uow, now=now)
    with uow:
        schedules = uow.signing_keys.schedules()
    rotated = None
    if signing_keys.rotation_due(schedules, now, crypto.signing_key_rotation_every):
        rotated = _rotate(uow, crypto, now)
        log.info("signing key rotated on schedule", extra={"kid": rotated.kid})
    retired = []
    with uow:
        for key in signing_keys.due_to_retire(uow.signing_keys.schedules(), now):
            if uow.signing_keys.mark_retired(key.kid, now):
                uow.emit(SigningKeyRetired(kid=key.kid))
                retired.append(key.kid)
        uow.commit()
    for kid in retired:
        log.info("signing key retired", extra={"kid": kid})
    return {"rotated": rotated.kid if rotated else None, "retired": retired}


def revoked_sessions(
    uow,
    crypto,
    since: datetime | None = None,
    page: int = 1,
    page_size: int = 20,
    now: datetime | None = None,
) -> dict:
    """A page of the sessions revoked whose access tokens may still be alive
    (revoked within the access token lifetime and the clock leeway), oldest
    first, each with the instant after which none of its tokens is valid. A
    later ``since`` narrows it (a gateway catching up)."""
    now = now or utcnow()
    earliest = now - crypto.verifiable_for
    if since is not None and since > earliest:
        earliest = since
    with uow:
        found, total = uow.sessions.revoked_since(earliest, page=page, page_size=page_size)
    ttl = timedelta(seconds=crypto.access_token_seconds)
    return {
        "items": [session.revoked_event(ttl) for session in found],
        "page": page,
        "page_size": page_size,
        "total": total,
    }
