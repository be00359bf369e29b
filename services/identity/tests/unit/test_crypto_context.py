"""The crypto context: configuration, password offloading and signing keys.

PII key handling (pii_key_bytes) is tested in services/common's test_pii.py."""

from datetime import UTC, datetime, timedelta

import jwt

from services.common.pii import DEV_PII_KEY, PiiCipher
from services.identity.adapters.crypto_context import CryptoContext, KeyRing
from services.identity.adapters.repository import StoredSigningKey
from services.identity.adapters.tokens import SigningKey
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import PII_KEY, cheap_hasher, rows

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


def store_key(uow, key: SigningKey, created_at: datetime, cipher: PiiCipher) -> None:
    with uow:
        uow.signing_keys.add(
            StoredSigningKey(
                kid=key.kid,
                private_key_cipher=cipher.encrypt(
                    key.to_pem().decode(), associated_data=f"signing-key:{key.kid}"
                ),
                created_at=created_at,
            )
        )
        uow.commit()


def test_keys_stored_by_racing_replicas_are_all_published(uow, crypto):
    # Two replicas found no key at the same moment and each stored one.
    cipher = PiiCipher(PII_KEY)
    now = datetime.now(UTC)
    first, second = SigningKey.generate(), SigningKey.generate()
    store_key(uow, second, now, cipher)
    store_key(uow, first, now - timedelta(seconds=1), cipher)
    replica_a, replica_b = KeyRing(cipher), KeyRing(cipher)
    for ring in (replica_a, replica_b):
        assert [key.kid for key in ring.keys(uow)] == [first.kid, second.kid]
    assert len(rows(uow, "signing_keys")) == 2
    # Every replica signs with the oldest key, and both are in the JWKS.
    assert {key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]} == {first.kid, second.kid}
    token = crypto.token_issuer(uow).issue(
        user_id="u", session_id="s", kind="citizen", roles=[], department_code=None,
        assurance_level=1, name="n",
    )  # fmt: skip
    assert jwt.get_unverified_header(token)["kid"] == first.kid


def test_a_key_added_by_another_replica_is_seen_without_a_restart(uow, crypto):
    own = use_cases.jwks(uow, crypto)["keys"][0]["kid"]
    other = SigningKey.generate()
    store_key(uow, other, datetime.now(UTC) + timedelta(seconds=1), PiiCipher(PII_KEY))
    kids = [key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]]
    assert kids == [own, other.kid]


def test_a_key_stored_under_another_pii_key_is_skipped(uow, crypto, caplog):
    foreign = SigningKey.generate()
    store_key(uow, foreign, datetime.now(UTC), PiiCipher(bytes(range(1, 33))))
    kids = [key["kid"] for key in use_cases.jwks(uow, crypto)["keys"]]
    # Unreadable, so a readable key was made to sign with.
    assert foreign.kid not in kids and len(kids) == 1
    assert len(rows(uow, "signing_keys")) == 2
