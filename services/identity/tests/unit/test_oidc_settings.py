"""The issuer a provider may run with: https, or plain http only on a loopback
host or in development."""

import os

import pytest

from services.common.environment import RefusedToStart
from services.identity.adapters.oidc_context import OidcSettings, check_issuer

PRODUCTION = {"TONGBAN_ENV": "production"}


@pytest.fixture
def insecure_transport(monkeypatch):
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    yield
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)


@pytest.mark.parametrize(
    "issuer", ["https://zwfw.example.gov.cn", "http://127.0.0.1:8000", "http://localhost:8000"]
)
def test_https_and_loopback_issuers_start_anywhere(issuer, insecure_transport):
    check_issuer(issuer, PRODUCTION)
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_a_plain_http_issuer_refuses_to_start_outside_development(insecure_transport):
    with pytest.raises(RefusedToStart, match="OIDC_ISSUER"):
        check_issuer("http://192.168.1.20:8000", PRODUCTION)
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_a_plain_http_issuer_is_accepted_in_development(insecure_transport):
    check_issuer("http://192.168.1.20:8000", {"TONGBAN_ENV": "development"})
    assert os.environ["AUTHLIB_INSECURE_TRANSPORT"] == "1"


def test_the_settings_drop_a_trailing_slash_of_the_issuer():
    settings = OidcSettings.from_config({"OIDC_ISSUER": "https://zwfw.example.gov.cn/"})
    assert settings.issuer == "https://zwfw.example.gov.cn"
