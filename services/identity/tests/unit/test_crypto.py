import base64

import pytest

from services.identity.adapters.crypto import (
    PasswordHasher,
    PiiCipher,
    PiiDecryptionError,
    decode_key,
)

KEY = bytes(range(32))


@pytest.fixture(scope="module")
def hasher():
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def cipher():
    return PiiCipher(KEY)


def test_password_hash_round_trip(hasher):
    password_hash = hasher.hash("secret123")
    assert password_hash.startswith("$argon2id$")
    assert "secret123" not in password_hash
    assert hasher.verify(password_hash, "secret123")
    assert not hasher.verify(password_hash, "secret124")


def test_same_password_gets_different_salts(hasher):
    assert hasher.hash("secret123") != hasher.hash("secret123")


def test_unreadable_hash_does_not_verify(hasher):
    assert not hasher.verify("not a hash", "secret123")
    assert hasher.needs_rehash("not a hash")


def test_needs_rehash_when_parameters_change(hasher):
    password_hash = hasher.hash("secret123")
    assert not hasher.needs_rehash(password_hash)
    stronger = PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    assert stronger.needs_rehash(password_hash)
    assert stronger.verify(password_hash, "secret123")


def test_dummy_verification_always_fails(hasher):
    assert hasher.verify_dummy("secret123") is False
    assert hasher.verify_dummy("secret123") is False


def test_pii_round_trip(cipher):
    ciphertext = cipher.encrypt("11010519491231002X")
    assert ciphertext.startswith("v1:")
    assert "11010519491231002X" not in ciphertext
    assert cipher.decrypt(ciphertext) == "11010519491231002X"


def test_encryption_uses_a_fresh_nonce(cipher):
    assert cipher.encrypt("same") != cipher.encrypt("same")


def test_associated_data_binds_the_ciphertext(cipher):
    ciphertext = cipher.encrypt("11010519491231002X", associated_data="user-1")
    assert cipher.decrypt(ciphertext, associated_data="user-1") == "11010519491231002X"
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(ciphertext, associated_data="user-2")


def test_tampering_is_detected(cipher):
    blob = bytearray(base64.b64decode(cipher.encrypt("11010519491231002X")[3:]))
    for position in (0, 12, len(blob) - 1):  # nonce, ciphertext, tag
        altered = bytearray(blob)
        altered[position] ^= 0x01
        with pytest.raises(PiiDecryptionError):
            cipher.decrypt("v1:" + base64.b64encode(bytes(altered)).decode())


@pytest.mark.parametrize("ciphertext", ["v2:AAAA", "v1:not base64!", "v1:AAAA", "plain"])
def test_malformed_ciphertexts_are_rejected(cipher, ciphertext):
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(ciphertext)


def test_another_key_cannot_decrypt(cipher):
    other = PiiCipher(bytes(range(1, 33)))
    with pytest.raises(PiiDecryptionError):
        other.decrypt(cipher.encrypt("11010519491231002X"))


def test_keyed_hash_is_stable_and_keyed(cipher):
    digest = cipher.keyed_hash("11010519491231002X")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert PiiCipher(KEY).keyed_hash("11010519491231002X") == digest
    assert PiiCipher(bytes(range(1, 33))).keyed_hash("11010519491231002X") != digest
    assert cipher.keyed_hash("11010519491231002x") != digest


def test_sub_keys_differ_from_the_master_key(cipher):
    import hashlib
    import hmac

    # The keyed hash must not be a plain HMAC under the master key.
    plain = hmac.new(KEY, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert cipher.keyed_hash("11010519491231002X") != plain


@pytest.mark.parametrize(
    "text",
    [
        KEY.hex(),
        KEY.hex().upper(),
        base64.b64encode(KEY).decode(),
        base64.urlsafe_b64encode(KEY).decode().rstrip("="),
        "  " + base64.b64encode(KEY).decode() + "\n",
    ],
)
def test_key_from_hex_or_base64(text):
    assert decode_key(text) == KEY
    assert PiiCipher.from_encoded_key(text).keyed_hash("x") == PiiCipher(KEY).keyed_hash("x")


@pytest.mark.parametrize(
    "text", [bytes(31).hex(), base64.b64encode(bytes(16)).decode(), "", "not a key!!"]
)
def test_short_or_unreadable_keys_are_rejected(text):
    with pytest.raises(ValueError):
        PiiCipher.from_encoded_key(text)


def test_short_raw_key_is_rejected():
    with pytest.raises(ValueError):
        PiiCipher(bytes(16))


def test_generated_key_is_usable():
    text = PiiCipher.generate_key()
    assert len(decode_key(text)) == 32
    assert PiiCipher.generate_key() != text
