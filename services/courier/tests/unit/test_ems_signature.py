import pytest

from services.common.ems_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    verify,
)

SECRET = b"dev-ems-webhook-secret"
BODY = '{"tracking_no":"EA123456785CN","status":"delivered","location":"南京"}'.encode()
NOW = 1_795_000_000


def test_sign_is_hex_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET, b"1795000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1795000000", BODY) == expected


def test_verify_accepts_a_fresh_signature():
    signature = sign(SECRET, str(NOW), BODY)
    assert verify(SECRET, str(NOW), BODY, signature, now=NOW + 299)
    assert verify(SECRET, str(NOW), BODY, signature, now=NOW - 299)


@pytest.mark.parametrize(
    "secret, timestamp, body, signature",
    [
        (SECRET, str(NOW), BODY + b" ", None),  # body tampered
        (SECRET, str(NOW + 1), BODY, None),  # timestamp tampered
        (b"other-secret", str(NOW), BODY, None),
        (SECRET, str(NOW), BODY, "0" * 64),
        (SECRET, str(NOW), BODY, ""),
        (SECRET, str(NOW), BODY, "签名"),
        (SECRET, "", BODY, None),
        (SECRET, None, BODY, None),
        (SECRET, "17950x0000", BODY, None),
    ],
)
def test_verify_rejects_tampering(secret, timestamp, body, signature):
    if signature is None:
        signature = sign(SECRET, str(NOW), BODY)
    assert not verify(secret, timestamp, body, signature, now=NOW)


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_verify_rejects_stale_timestamps(age):
    signature = sign(SECRET, str(NOW), BODY)
    assert not verify(SECRET, str(NOW), BODY, signature, now=NOW + age)


def test_tolerance_is_configurable():
    signature = sign(SECRET, str(NOW), BODY)
    assert not verify(SECRET, str(NOW), BODY, signature, now=NOW + 61, tolerance=60)


def test_signed_headers_verify_against_the_current_clock():
    headers = signed_headers(SECRET, BODY)
    assert verify(SECRET, headers[TIMESTAMP_HEADER], BODY, headers[SIGNATURE_HEADER])
