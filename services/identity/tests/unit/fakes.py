"""Test doubles for the identity unit tests."""

import hashlib


class FakePii:
    """Stands in for PiiCipher: reversible 'encryption' and a plain hash."""

    def encrypt(self, plaintext: str) -> str:
        return "fake:" + plaintext[::-1]

    def keyed_hash(self, value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()
