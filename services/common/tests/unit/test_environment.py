"""Outside development a service does not start with a secret missing or
still its public development default; in development the defaults stay."""

from types import SimpleNamespace

import pytest

from services.common.environment import (
    RefusedToStart,
    RequiredSecrets,
    check_secrets,
    environment_of,
    unfit_secrets,
)
from services.common.pii import DEV_PII_KEY, PII_SECRETS, PiiCipher

# As the gateway names its webhook secrets (gateway.webhooks.WEBHOOK_SECRETS).
DEFAULT_SECRET = "dev-ems-webhook-secret"  # noqa: S105
DEFAULT_PAYMENT_SECRET = "dev-payment-webhook-secret"  # noqa: S105
WEBHOOK_SECRETS = {
    "EMS_WEBHOOK_SECRET": DEFAULT_SECRET,
    "PAYMENT_WEBHOOK_SECRET": DEFAULT_PAYMENT_SECRET,
}
SET = {"EMS_WEBHOOK_SECRET": "s3cret-ems", "PAYMENT_WEBHOOK_SECRET": "s3cret-pay"}


def started(provider: RequiredSecrets, config: dict, service: str = "gateway") -> None:
    provider.container = SimpleNamespace(config=config, service_name=service)
    provider.setup()


def test_development_is_the_default_and_only_two_values_are_known():
    assert environment_of({}) == "development"
    assert environment_of({"TONGBAN_ENV": " Production "}) == "production"
    with pytest.raises(ValueError, match="TONGBAN_ENV"):
        environment_of({"TONGBAN_ENV": "prod"})


def test_in_development_the_defaults_stay():
    config = {"TONGBAN_ENV": "development", "EMS_WEBHOOK_SECRET": DEFAULT_SECRET}
    assert unfit_secrets(config, WEBHOOK_SECRETS) == []
    assert unfit_secrets({}, PII_SECRETS) == []
    started(RequiredSecrets(WEBHOOK_SECRETS), {})


@pytest.mark.parametrize(
    ("config", "problems"),
    [
        (
            {},
            ["EMS_WEBHOOK_SECRET is not set", "PAYMENT_WEBHOOK_SECRET is not set"],
        ),
        (
            {"EMS_WEBHOOK_SECRET": DEFAULT_SECRET, "PAYMENT_WEBHOOK_SECRET": "s3cret"},
            ["EMS_WEBHOOK_SECRET is the public development default"],
        ),
        (
            {"EMS_WEBHOOK_SECRET": "s3cret", "PAYMENT_WEBHOOK_SECRET": DEFAULT_PAYMENT_SECRET},
            ["PAYMENT_WEBHOOK_SECRET is the public development default"],
        ),
        (
            {"EMS_WEBHOOK_SECRET": "  ", **{"PAYMENT_WEBHOOK_SECRET": "x"}},
            ["EMS_WEBHOOK_SECRET is not set"],
        ),
        (SET, []),
    ],
)
def test_in_production_the_gateway_needs_its_webhook_secrets(config, problems):
    assert unfit_secrets({"TONGBAN_ENV": "production", **config}, WEBHOOK_SECRETS) == problems


def test_in_production_the_pii_key_must_not_be_the_development_one():
    production = {"TONGBAN_ENV": "production"}
    assert unfit_secrets({**production, "PII_KEY": DEV_PII_KEY}, PII_SECRETS) == [
        "PII_KEY is the public development default"
    ]
    assert unfit_secrets(production, PII_SECRETS) == ["PII_KEY is not set"]
    assert unfit_secrets({**production, "PII_KEY": PiiCipher.generate_key()}, PII_SECRETS) == []


def test_an_unknown_environment_is_refused_rather_than_guessed():
    assert unfit_secrets({"TONGBAN_ENV": "staging", **SET}, WEBHOOK_SECRETS) == [
        "TONGBAN_ENV must be one of development, production, not 'staging'"
    ]


def test_the_refusal_is_one_clear_line_naming_no_secret(caplog):
    config = {"TONGBAN_ENV": "production", "PII_KEY": DEV_PII_KEY}
    with pytest.raises(RefusedToStart) as refused:
        check_secrets(config, PII_SECRETS, "identity")
    assert str(refused.value) == (
        "identity refuses to start in production: PII_KEY is the public development default"
    )
    (line,) = [record for record in caplog.records if record.levelname == "CRITICAL"]
    assert line.getMessage() == str(refused.value)
    assert DEV_PII_KEY not in line.getMessage()


def test_the_check_runs_when_the_container_is_set_up():
    provider = RequiredSecrets(PII_SECRETS)
    with pytest.raises(RefusedToStart):
        started(provider, {"TONGBAN_ENV": "production"}, "identity")
    started(provider, {"TONGBAN_ENV": "production", "PII_KEY": PiiCipher.generate_key()})
