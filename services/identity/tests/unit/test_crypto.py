"""argon2id password hashing. The PII cipher's tests are services/common's test_pii.py."""

import pytest

from services.identity.adapters.crypto import PasswordHasher


@pytest.fixture(scope="module")
def hasher():
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


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
