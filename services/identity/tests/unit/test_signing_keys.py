"""Signing keys that rotate: the schedule's rules on a fake clock, then the use
cases (rotation, listing, the timer's round, the gateways' list of ended
sessions) on a real database."""

import copy
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.common.errors import Forbidden
from services.common.tokens import TokenVerifier
from services.identity.domain import signing_keys as rules
from services.identity.domain.signing_keys import FIRST, KeySchedule, KeyStatus
from services.identity.service_layer import signing_keys, use_cases
from services.identity.tests.unit.conftest import PASSWORD, outbox, rows

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LEAD = timedelta(seconds=600)
LIFETIME = timedelta(seconds=930)  # access token lifetime + leeway


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def rotated(keys, kid, now):
    rotation = rules.rotate(keys, kid, now, publish_lead=LEAD, token_lifetime=LIFETIME)
    scheduled = {key.kid: key for key in rotation.scheduled}
    return [scheduled.get(key.kid, key) for key in keys] + [rotation.added]


# --- rules --------------------------------------------------------------------


def test_the_first_key_signs_at_once():
    first = rules.first_key("k1", T0)
    assert first.follows == FIRST
    assert rules.signing_key([first], T0).kid == "k1"
    assert [view.status for view in rules.views([first], T0)] == [KeyStatus.SIGNING]


def test_a_rotated_key_is_published_at_once_and_signs_after_the_lead():
    clock = Clock()
    keys = [rules.first_key("k1", clock())]
    clock.advance(days=30)
    keys = rotated(keys, "k2", clock())
    added = keys[-1]
    assert added.signs_from == clock() + LEAD and added.follows == "k1"
    # Published before it signs: k1 still signs.
    assert [key.kid for key in rules.published(keys, clock())] == ["k1", "k2"]
    assert rules.signing_key(keys, clock()).kid == "k1"
    assert {v.kid: v.status for v in rules.views(keys, clock())} == {
        "k1": KeyStatus.SIGNING,
        "k2": KeyStatus.PENDING,
    }
    # The old key retires once the last token it signed expired.
    assert keys[0].retires_at == added.signs_from + LIFETIME
    assert all(view.retires_at is None for view in rules.views(keys, clock()))

    clock.now = added.signs_from
    assert rules.signing_key(keys, clock()).kid == "k2"
    assert [key.kid for key in rules.published(keys, clock())] == ["k2", "k1"]
    views = {v.kid: v for v in rules.views(keys, clock())}
    assert views["k1"].status == KeyStatus.VERIFYING
    assert views["k1"].retires_at == added.signs_from + LIFETIME
    assert views["k2"].status == KeyStatus.SIGNING and views["k2"].retires_at is None

    clock.now = keys[0].retires_at - timedelta(seconds=1)
    assert rules.due_to_retire(keys, clock()) == []
    clock.now = keys[0].retires_at
    assert [key.kid for key in rules.published(keys, clock())] == ["k2"]
    assert [key.kid for key in rules.due_to_retire(keys, clock())] == ["k1"]
    assert {v.kid: v.status for v in rules.views(keys, clock())}["k1"] == KeyStatus.RETIRED


def test_no_second_key_while_one_is_pending():
    keys = rotated([rules.first_key("k1", T0)], "k2", T0 + timedelta(days=1))
    with pytest.raises(ValueError, match="pending"):
        rules.rotate(keys, "k3", T0 + timedelta(days=1), publish_lead=LEAD, token_lifetime=LIFETIME)


def test_rotation_is_due_when_the_signing_key_signed_long_enough():
    keys = [rules.first_key("k1", T0)]
    every = timedelta(days=30)
    assert not rules.rotation_due(keys, T0 + timedelta(days=29), every)
    assert rules.rotation_due(keys, T0 + timedelta(days=30), every)
    assert not rules.rotation_due(keys, T0 + timedelta(days=300), None)
    pending = rotated(keys, "k2", T0 + timedelta(days=30))
    assert not rules.rotation_due(pending, T0 + timedelta(days=30, seconds=1), every)
    # The new key's age counts from when it began to sign.
    began = pending[-1].signs_from
    assert not rules.rotation_due(pending, began + timedelta(days=29), every)
    assert rules.rotation_due(pending, began + timedelta(days=30), every)


def test_every_older_key_without_a_retirement_gets_one():
    # Two keys from before keys named what they follow: both retire with the rotation.
    keys = [
        KeySchedule(kid="a", created_at=T0, signs_from=T0),
        KeySchedule(kid="b", created_at=T0, signs_from=T0 + timedelta(seconds=1)),
    ]
    now = T0 + timedelta(days=1)
    assert rules.signing_key(keys, now).kid == "b"
    keys = rotated(keys, "c", now)
    assert {key.kid: key.retires_at for key in keys[:2]} == {
        "a": now + LEAD + LIFETIME,
        "b": now + LEAD + LIFETIME,
    }
    assert keys[-1].follows == "b"


def test_a_retired_key_neither_signs_nor_is_published():
    key = KeySchedule(kid="a", created_at=T0, signs_from=T0, retired_at=T0 + timedelta(days=1))
    assert rules.signing_key([key], T0 + timedelta(days=2)) is None
    assert rules.published([key], T0 + timedelta(days=2)) == []


# --- use cases ----------------------------------------------------------------


@pytest.fixture
def clock(crypto):
    clock = Clock(datetime.now(UTC))
    crypto.keyring._clock = clock
    return clock


def issue(crypto, uow) -> str:
    return crypto.token_issuer(uow).issue(
        user_id="u", session_id="s", kind="citizen", roles=[], department_code=None,
        assurance_level=1, name="n",
    )  # fmt: skip


def test_an_operator_rotates_and_the_new_key_signs_after_the_lead(uow, crypto, operator, clock):
    first = use_cases.jwks(uow, crypto)["keys"][0]["kid"]
    old_token = issue(crypto, uow)
    answer = signing_keys.rotate_signing_key(uow, crypto, operator, now=clock())
    assert answer["signs_from"] == clock() + crypto.signing_key_publish_lead
    assert answer["published_kids"] == [first, answer["kid"]]
    # Published at once, not signing yet.
    document = use_cases.jwks(uow, crypto)
    assert [key["kid"] for key in document["keys"]] == [first, answer["kid"]]
    assert jwt.get_unverified_header(issue(crypto, uow))["kid"] == first
    assert [e["payload"] for e in outbox(uow) if e["type"] == "signing_key_added"][-1] == {
        "kid": answer["kid"],
        "signs_from": answer["signs_from"].isoformat().replace("+00:00", "Z"),
    }

    clock.now = answer["signs_from"]
    new_token = issue(crypto, uow)
    assert jwt.get_unverified_header(new_token)["kid"] == answer["kid"]
    verifier = TokenVerifier(use_cases.jwks(uow, crypto))
    assert verifier.verify(old_token)["sub"] == "u"
    assert verifier.verify(new_token)["sub"] == "u"

    listed = signing_keys.list_signing_keys(uow, operator, now=clock())
    assert listed["total"] == 2
    assert [(v.kid, v.status) for v in listed["items"]] == [
        (answer["kid"], KeyStatus.SIGNING),
        (first, KeyStatus.VERIFYING),
    ]
    assert listed["items"][1].retires_at == answer["signs_from"] + crypto.verifiable_for


def test_rotating_while_a_key_is_pending_answers_that_key(uow, crypto, operator, clock):
    first = signing_keys.rotate_signing_key(uow, crypto, operator, now=clock())
    again = signing_keys.rotate_signing_key(uow, crypto, operator, now=clock.advance(seconds=5))
    assert again["kid"] == first["kid"] and again["signs_from"] == first["signs_from"]
    assert len(rows(uow, "signing_keys")) == 2
    assert [e["type"] for e in outbox(uow)].count("signing_key_added") == 2  # first key + one


def test_two_replicas_rotating_at_once_add_one_key(uow, crypto, operator, clock):
    use_cases.jwks(uow, crypto)
    other = type(crypto.keyring)(crypto.pii, offload=lambda f, *a: f(*a), clock=clock)
    generate = crypto.keyring.generate

    def generate_while_the_other_replica_rotates():
        created = generate()
        crypto_other = _with_keyring(crypto, other)
        signing_keys.rotate_signing_key(uow, crypto_other, operator, now=clock())
        return created

    crypto.keyring.generate = generate_while_the_other_replica_rotates
    answer = signing_keys.rotate_signing_key(uow, crypto, operator, now=clock())
    stored = rows(uow, "signing_keys")
    assert len(stored) == 2
    assert answer["kid"] in {row["kid"] for row in stored}
    assert [e["type"] for e in outbox(uow)].count("signing_key_added") == 2


def _with_keyring(crypto, keyring):
    twin = copy.copy(crypto)
    twin.keyring = keyring
    return twin


def test_only_an_operator_rotates_or_lists(uow, crypto, citizen):
    actor = {"user_id": citizen.user_id, "kind": "citizen", "roles": []}
    with pytest.raises(Forbidden):
        signing_keys.rotate_signing_key(uow, crypto, actor)
    with pytest.raises(Forbidden):
        signing_keys.list_signing_keys(uow, actor)
    assert rows(uow, "signing_keys") == []


def test_the_list_is_paged_and_shows_no_key_material(uow, crypto, operator, clock):
    signing_keys.rotate_signing_key(uow, crypto, operator, now=clock())
    page = signing_keys.list_signing_keys(uow, operator, page=2, page_size=1, now=clock())
    assert (page["page"], page["page_size"], page["total"]) == (2, 1, 2)
    [item] = page["items"]
    assert item.status == KeyStatus.SIGNING
    assert not hasattr(item, "private_key_cipher")


def test_the_schedule_rotates_old_keys_and_retires_expired_ones(uow, crypto, clock):
    crypto.signing_key_rotation_every = timedelta(days=30)
    first = use_cases.jwks(uow, crypto)["keys"][0]["kid"]
    assert signing_keys.keep_signing_keys(uow, crypto, now=clock()) == {
        "rotated": None,
        "retired": [],
    }
    round_ = signing_keys.keep_signing_keys(uow, crypto, now=clock.advance(days=30))
    second = round_["rotated"]
    assert second and round_["retired"] == []
    # Replicas' timers fire too: no second pending key.
    later = signing_keys.keep_signing_keys(uow, crypto, now=clock.advance(seconds=1))
    assert later == {"rotated": None, "retired": []}
    assert len(rows(uow, "signing_keys")) == 2

    clock.advance(seconds=600 + 930)
    round_ = signing_keys.keep_signing_keys(uow, crypto, now=clock())
    assert round_ == {"rotated": None, "retired": [first]}
    assert [key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]] == [second]
    retired = [e["payload"] for e in outbox(uow) if e["type"] == "signing_key_retired"]
    assert retired == [{"kid": first}]
    # Another replica's round finds nothing left to retire.
    assert signing_keys.keep_signing_keys(uow, crypto, now=clock())["retired"] == []


def test_a_schedule_of_zero_days_never_rotates(uow, crypto, clock):
    crypto.signing_key_rotation_every = None
    use_cases.jwks(uow, crypto)
    assert (
        signing_keys.keep_signing_keys(uow, crypto, now=clock.advance(days=400))["rotated"] is None
    )


# --- revoked sessions -----------------------------------------------------------


def test_revoked_sessions_lists_those_whose_tokens_may_be_alive(uow, crypto, citizen):
    now = datetime.now(UTC)
    old = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=now - timedelta(hours=1))
    use_cases.logout(uow, crypto, old.session_id, now=now - timedelta(hours=1))
    recent = []
    for minutes in (10, 5):
        pair = use_cases.login(uow, crypto, "13800138000", PASSWORD)
        use_cases.logout(uow, crypto, pair.session_id, now=now - timedelta(minutes=minutes))
        recent.append(pair.session_id)
    alive = use_cases.login(uow, crypto, "13800138000", PASSWORD)

    page = signing_keys.revoked_sessions(uow, crypto, now=now)
    assert page["total"] == 2
    assert [item.session_id for item in page["items"]] == recent
    assert page["items"][0].expires_at == page["items"][0].revoked_at + timedelta(seconds=900)
    assert alive.session_id not in {item.session_id for item in page["items"]}

    second = signing_keys.revoked_sessions(uow, crypto, page=2, page_size=1, now=now)
    assert [item.session_id for item in second["items"]] == recent[1:]
    since = signing_keys.revoked_sessions(uow, crypto, since=now - timedelta(minutes=7), now=now)
    assert [item.session_id for item in since["items"]] == recent[1:]
    # A `since` further back than a token lives changes nothing.
    assert (
        signing_keys.revoked_sessions(uow, crypto, since=now - timedelta(days=1), now=now)["total"]
        == 2
    )
