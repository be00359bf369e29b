"""Who the client is (TRUSTED_PROXIES), the public reads' limit, and a locked
sign-in's answer."""

import json
from types import SimpleNamespace

import pytest

from gateway.errors import RateLimited, error_response
from gateway.ratelimit import RateLimiter, client_of, trusted_networks
from services.common.errors import Unauthorized

INGRESS = trusted_networks("10.42.0.0/16, 192.168.7.1")


def request(remote, forwarded=None):
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return SimpleNamespace(headers=headers, remote_addr=remote)


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_of(request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_of(request(None, "1.2.3.4")) == "unknown"


def test_a_header_from_an_untrusted_peer_is_ignored():
    assert client_of(request("203.0.113.9", "1.2.3.4"), INGRESS) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client():
    assert client_of(request("10.42.3.7", "198.51.100.20"), INGRESS) == "198.51.100.20"
    # what the client wrote itself (left) is not believed
    forged = request("10.42.3.7", "1.2.3.4, 198.51.100.20")
    assert client_of(forged, INGRESS) == "198.51.100.20"


def test_trusted_hops_are_skipped():
    chain = request("10.42.3.7", "1.2.3.4, 198.51.100.20, 192.168.7.1, 10.42.0.9")
    assert client_of(chain, INGRESS) == "198.51.100.20"


def test_a_trusted_proxy_without_the_header_is_the_client():
    assert client_of(request("10.42.3.7"), INGRESS) == "10.42.3.7"
    assert client_of(request("10.42.3.7", " , "), INGRESS) == "10.42.3.7"


def test_ipv6_proxies_and_clients():
    proxies = trusted_networks("fd00::/8")
    assert client_of(request("fd00::1", "2001:db8::5, fd00::2"), proxies) == "2001:db8::5"


def test_a_malformed_hop_is_taken_as_written():
    assert client_of(request("10.42.3.7", "1.2.3.4, not-an-address"), INGRESS) == "not-an-address"
    assert len(client_of(request("10.42.3.7", "x" * 500), INGRESS)) == 64


def test_trusted_proxies_parse_and_refuse_typos():
    assert trusted_networks("") == () and trusted_networks(None) == ()
    assert [str(n) for n in trusted_networks("10.0.0.0/8,::1")] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="10.0.0/33"):
        trusted_networks("10.0.0/33")


def limiter(**config):
    extension = RateLimiter()
    extension.container = SimpleNamespace(config=config)
    extension.setup()
    return extension


def test_the_public_limit_is_per_client_and_can_be_turned_off():
    limits = limiter(PUBLIC_RATE_PER_SECOND="0.001", PUBLIC_RATE_BURST="2")
    limits.check_public("203.0.113.9")
    limits.check_public("203.0.113.9")
    with pytest.raises(RateLimited) as refused:
        limits.check_public("203.0.113.9")
    assert refused.value.retry_after >= 1
    limits.check_public("198.51.100.1")
    off = limiter(PUBLIC_RATE_PER_SECOND=0, PUBLIC_RATE_BURST=1)
    for _ in range(10):
        off.check_public("203.0.113.9")
    assert limiter().public.rate == 50 and limiter().public.burst == 200


def test_the_limiter_uses_the_trusted_proxies():
    limits = limiter(TRUSTED_PROXIES="10.42.0.0/16")
    assert limits.client_of(request("10.42.0.5", "198.51.100.20")) == "198.51.100.20"


def test_a_locked_sign_in_answers_retry_after_and_the_body_of_a_wrong_password():
    message = "phone number or password is incorrect"
    locked = error_response(Unauthorized(message, {"retry_after": "42"}))
    wrong = error_response(Unauthorized(message))
    assert locked.status_code == wrong.status_code == 401
    assert locked.headers["Retry-After"] == "42"
    assert "Retry-After" not in wrong.headers
    assert json.loads(locked.get_data()) == json.loads(wrong.get_data())
