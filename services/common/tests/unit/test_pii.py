"""The shared PII cipher, its key decoding and cipher_from_config."""

import base64
import hashlib
import hmac
import logging

import pytest

from services.common import pii
from services.common.pii import (
    DEV_PII_KEY,
    PiiCipher,
    PiiDecryptionError,
    cipher_from_config,
    decode_key,
    pii_key_bytes,
)

KEY = bytes(range(32))
DEV_DEFAULT = DEV_PII_KEY


@pytest.fixture
def cipher():
    return PiiCipher(KEY)


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


def test_encoded_keys_are_decoded():
    assert pii_key_bytes(KEY.hex()) == KEY
    assert pii_key_bytes(base64.b64encode(KEY).decode()) == KEY


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("not a key, a passphrase!", hashlib.sha256(b"not a key, a passphrase!").digest()),
        # The dev default is valid base64url, so it decodes; it is public all the same.
        (DEV_DEFAULT, base64.urlsafe_b64decode(DEV_DEFAULT + "=")),
    ],
)
def test_weak_keys_are_accepted_with_one_warning(monkeypatch, caplog, text, key):
    monkeypatch.setattr(pii, "_warned_about_weak_key", False)
    caplog.set_level(logging.WARNING, logger=pii.__name__)
    assert pii_key_bytes(text) == key and len(key) == 32
    assert pii_key_bytes(text) == key
    warnings = [r for r in caplog.records if "PII_KEY" in r.getMessage()]
    assert len(warnings) == 1
    assert text not in warnings[0].getMessage()


def test_a_generated_key_gives_no_warning(monkeypatch, caplog):
    monkeypatch.setattr(pii, "_warned_about_weak_key", False)
    caplog.set_level(logging.WARNING, logger=pii.__name__)
    pii_key_bytes(PiiCipher.generate_key())
    assert caplog.records == []


@pytest.mark.parametrize("value", ["", "   ", None])
def test_a_missing_key_is_refused(value):
    with pytest.raises(ValueError):
        pii_key_bytes(value)


def test_values_stored_before_the_move_stay_readable(cipher):
    # Made by identity's PiiCipher before it moved here: the HKDF labels must not change.
    assert cipher.keyed_hash("11010519491231002X") == (
        "be9068ce583cccf392309e812b50e51b6d9597091192f11a32da8bc72a06538f"
    )
    stored = "v1:v5OWGD2QpFQlvM8kdD/vB5dJaB684Udu8QbT2gr/g5wZ7fKkzucq8P1YAn3EoQ=="
    assert cipher.decrypt(stored, associated_data="app-1") == "11010519491231002X"


def test_cipher_from_config_reads_pii_key():
    built = cipher_from_config({"PII_KEY": KEY.hex()})
    assert built.keyed_hash("x") == PiiCipher(KEY).keyed_hash("x")
    assert built.decrypt(PiiCipher(KEY).encrypt("x")) == "x"


@pytest.mark.parametrize("config", [{}, {"PII_KEY": ""}, {"PII_KEY": None}, None])
def test_cipher_from_config_refuses_a_missing_key(config):
    with pytest.raises(ValueError, match="PII_KEY is not set"):
        cipher_from_config(config)
