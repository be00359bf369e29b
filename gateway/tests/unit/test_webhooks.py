"""Webhook signatures: the development defaults sign only in development; a
secret that is not configured is never stood in for anywhere else."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.service import GatewayService
from gateway.webhooks import (
    DEFAULT_PAYMENT_SECRET,
    DEFAULT_SECRET,
    PAYMENT_SIGNATURE_HEADER,
    PAYMENT_TIMESTAMP_HEADER,
    WEBHOOK_SECRETS,
    verify_ems_request,
    verify_payment_request,
)
from services.common import ems_signature
from services.common.environment import RefusedToStart, RequiredSecrets
from services.common.errors import Unauthorized

ROOT = Path(__file__).resolve().parents[3]
BODY = b'{"event": "scan"}'
CONFIGURED = {"EMS_WEBHOOK_SECRET": "ems-s3cret", "PAYMENT_WEBHOOK_SECRET": "pay-s3cret"}


def ems_request(secret: str) -> Request:
    headers = ems_signature.signed_headers(secret.encode(), BODY)
    return Request(EnvironBuilder(method="POST", data=BODY, headers=headers).get_environ())


def payment_request(secret: str) -> Request:
    timestamp = str(int(time.time()))
    headers = {
        PAYMENT_TIMESTAMP_HEADER: timestamp,
        PAYMENT_SIGNATURE_HEADER: ems_signature.sign(secret.encode(), timestamp, BODY),
    }
    return Request(EnvironBuilder(method="POST", data=BODY, headers=headers).get_environ())


def test_in_development_the_default_secrets_sign():
    verify_ems_request(ems_request(DEFAULT_SECRET), {})
    verify_payment_request(payment_request(DEFAULT_PAYMENT_SECRET), {"TONGBAN_ENV": "development"})


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_elsewhere_an_unconfigured_secret_verifies_nothing(environment):
    config = {"TONGBAN_ENV": environment}
    with pytest.raises(Unauthorized):
        verify_ems_request(ems_request(DEFAULT_SECRET), config)
    with pytest.raises(Unauthorized):
        verify_payment_request(payment_request(DEFAULT_PAYMENT_SECRET), config)


def test_a_configured_secret_signs_and_the_default_then_does_not():
    config = {
        "TONGBAN_ENV": "production",
        "EMS_WEBHOOK_SECRET": "ems-s3cret",
        "PAYMENT_WEBHOOK_SECRET": "pay-s3cret",
    }
    verify_ems_request(ems_request("ems-s3cret"), config)
    verify_payment_request(payment_request("pay-s3cret"), config)
    with pytest.raises(Unauthorized):
        verify_ems_request(ems_request(DEFAULT_SECRET), {**config, "TONGBAN_ENV": "development"})


def test_the_gateway_checks_its_webhook_secrets_at_start():
    (provider,) = [
        value for value in vars(GatewayService).values() if isinstance(value, RequiredSecrets)
    ]
    assert provider.defaults == WEBHOOK_SECRETS
    provider.container = SimpleNamespace(config={"TONGBAN_ENV": "production"}, service_name="gw")
    with pytest.raises(RefusedToStart):
        provider.setup()
    provider.container.config = {"TONGBAN_ENV": "production", **CONFIGURED}
    provider.setup()


def test_a_production_gateway_with_the_default_secrets_exits_at_start(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMS_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET")
    }
    environment.update(
        TONGBAN_ENV="production", TONGBAN_DATA_DIR=str(tmp_path), WEB_SERVER_ADDRESS="127.0.0.1:0"
    )
    finished = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "operations.runner", "gateway.service:GatewayService"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    (line,) = [json.loads(text) for text in finished.stdout.splitlines() if '"critical"' in text]
    assert line["message"] == (
        "gateway refuses to start in production: EMS_WEBHOOK_SECRET is the public development"
        " default; PAYMENT_WEBHOOK_SECRET is the public development default"
    )
