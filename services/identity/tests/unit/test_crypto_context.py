"""The crypto context: configuration, password offloading and signing keys.

PII key handling (pii_key_bytes) is tested in services/common's test_pii.py."""

from datetime import UTC, datetime, timedelta

import jwt

from services.common.pii import DEV_PII_KEY, PiiCipher
from services.identity.adapters.crypto_context import CryptoContext, KeyRing
from services.identity.adapters.repository import StoredSigningKey
from services.identity.adapters.tokens import SigningKey
from services.identity.domain.signing_keys import FIRST, KeySchedule
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import PII_KEY, cheap_hasher, outbox, rows

DEV_DEFAULT = DEV_PII_KEY


def test_from_config_reads_lifetimes_and_argon2_tuning():
    crypto = CryptoContext.from_config(
        {
            "PII_KEY": DEV_DEFAULT,
            "ACCESS_TOKEN_SECONDS": "600",
            "REFRESH_TOKEN_DAYS": "7",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "8",
            "ARGON2_PARALLELISM": "1",
        }
    )
    assert crypto.access_token_seconds == 600
    assert crypto.refresh_token_ttl == timedelta(days=7)
    assert "m=8,t=1,p=1" in crypto.hash_password("secret123")
    defaults = CryptoContext.from_config({"PII_KEY": PII_KEY.hex()})
    assert defaults.access_token_seconds == 900
    assert defaults.refresh_token_ttl == timedelta(days=30)


def test_password_work_runs_in_the_thread_pool(monkeypatch):
    offloaded = []

    def offload(function, *args):
        offloaded.append(function.__name__)
        return function(*args)

    crypto = CryptoContext(cheap_hasher(), PiiCipher(PII_KEY), offload=offload)
    password_hash = crypto.hash_password("secret123")
    assert crypto.verify_password(password_hash, "secret123")
    assert crypto.verify_dummy("secret123") is False
    assert offloaded == ["hash", "verify", "verify_dummy"]


def store_key(
    uow,
    key: SigningKey,
    created_at: datetime,
    cipher: PiiCipher,
    signs_from: datetime | None = None,
    follows: str | None = None,
) -> None:
    with uow:
        uow.signing_keys.add(
            StoredSigningKey(
                kid=key.kid,
                private_key_cipher=cipher.encrypt(
                    key.to_pem().decode(), associated_data=f"signing-key:{key.kid}"
                ),
                schedule=KeySchedule(
                    kid=key.kid,
                    created_at=created_at,
                    signs_from=signs_from or created_at,
                    follows=follows,
                ),
            )
        )
        uow.commit()


def test_keys_stored_before_rotation_are_all_published_and_the_newest_signs(uow, crypto):
    # Stored by two replicas that found no key at the same moment, before keys
    # named the key they follow.
    cipher = PiiCipher(PII_KEY)
    now = datetime.now(UTC)
    older, newer = SigningKey.generate(), SigningKey.generate()
    store_key(uow, newer, now, cipher)
    store_key(uow, older, now - timedelta(seconds=1), cipher)
    replica_a, replica_b = KeyRing(cipher), KeyRing(cipher)
    for ring in (replica_a, replica_b):
        assert [key.kid for key in ring.keys(uow)] == [newer.kid, older.kid]
    assert len(rows(uow, "signing_keys")) == 2
    assert {key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]} == {older.kid, newer.kid}
    token = crypto.token_issuer(uow).issue(
        user_id="u", session_id="s", kind="citizen", roles=[], department_code=None,
        assurance_level=1, name="n",
    )  # fmt: skip
    assert jwt.get_unverified_header(token)["kid"] == newer.kid


def test_replicas_finding_no_key_at_once_store_one(uow, crypto):
    cipher = PiiCipher(PII_KEY)
    winner = SigningKey.generate()

    class LateReplica(KeyRing):
        """Generates its key while the other replica stores its own."""

        def generate(self):
            created = super().generate()
            store_key(uow, winner, datetime.now(UTC), cipher, follows=FIRST)
            return created

    kids = [key.kid for key in LateReplica(cipher).keys(uow)]
    assert kids == [winner.kid]
    assert [row["kid"] for row in rows(uow, "signing_keys")] == [winner.kid]
    assert [event["type"] for event in outbox(uow)] == []


def test_a_key_added_by_another_replica_is_published_at_once_and_signs_later(uow, crypto):
    own = use_cases.jwks(uow, crypto)["keys"][0]["kid"]
    other = SigningKey.generate()
    now = datetime.now(UTC)
    store_key(uow, other, now, PiiCipher(PII_KEY), signs_from=now + timedelta(seconds=60))
    kids = [key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]]
    assert kids == [own, other.kid]
    later = [key.kid for key in crypto.keyring.keys(uow, now=now + timedelta(seconds=61))]
    assert later == [other.kid, own]


def test_a_key_stored_under_another_pii_key_is_skipped(uow, crypto, caplog):
    foreign = SigningKey.generate()
    store_key(uow, foreign, datetime.now(UTC), PiiCipher(bytes(range(1, 33))))
    kids = [key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]]
    # Unreadable, so a readable key was made to sign with.
    assert foreign.kid not in kids and len(kids) == 1
    assert len(rows(uow, "signing_keys")) == 2


def test_from_config_reads_the_key_schedule(caplog):
    crypto = CryptoContext.from_config(
        {
            "PII_KEY": DEV_DEFAULT,
            "SIGNING_KEY_PUBLISH_SECONDS": "120",
            "SIGNING_KEY_ROTATION_DAYS": "0",
            "JWKS_REFRESH_SECONDS": "300",
        }
    )
    assert crypto.signing_key_publish_lead == timedelta(seconds=120)
    assert crypto.signing_key_rotation_every is None
    assert "should exceed" in caplog.text
    defaults = CryptoContext.from_config({"PII_KEY": DEV_DEFAULT})
    assert defaults.signing_key_publish_lead == timedelta(seconds=600)
    assert defaults.signing_key_rotation_every == timedelta(days=30)
    assert defaults.verifiable_for == timedelta(seconds=900 + 30)
