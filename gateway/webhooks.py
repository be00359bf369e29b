"""Signed callbacks of outside parties: the signature over the raw body is
checked first.

EMS signs ``timestamp + "." + body`` with the shared secret
(``EMS_WEBHOOK_SECRET``) and sends ``X-EMS-Timestamp`` and ``X-EMS-Signature``;
the payment platform signs the same way with its own secret
(``PAYMENT_WEBHOOK_SECRET``) and sends ``X-Payment-Timestamp`` and
``X-Payment-Signature``. A missing, wrong or stale (more than 5 minutes off)
signature is a 401 and the body is not even parsed.

The development defaults below are public: they sign only where TONGBAN_ENV
is development. Anywhere else the gateway does not start while a secret is
missing or still its default (``WEBHOOK_SECRETS``, checked by
``services.common.environment.RequiredSecrets``), and a secret that is not
configured is never stood in for.
"""

from services.common import ems_signature
from services.common.environment import is_development
from services.common.errors import Unauthorized

# The development defaults of config/service.yaml; production sets its own.
DEFAULT_SECRET = "dev-ems-webhook-secret"  # noqa: S105
DEFAULT_PAYMENT_SECRET = "dev-payment-webhook-secret"  # noqa: S105
WEBHOOK_SECRETS = {
    "EMS_WEBHOOK_SECRET": DEFAULT_SECRET,
    "PAYMENT_WEBHOOK_SECRET": DEFAULT_PAYMENT_SECRET,
}
PAYMENT_TIMESTAMP_HEADER = "X-Payment-Timestamp"
PAYMENT_SIGNATURE_HEADER = "X-Payment-Signature"


def verify_ems_request(request, config: dict) -> None:
    secret = _secret(config, "EMS_WEBHOOK_SECRET")
    valid = secret is not None and ems_signature.verify(
        secret,
        request.headers.get(ems_signature.TIMESTAMP_HEADER),
        request.get_data(cache=True),
        request.headers.get(ems_signature.SIGNATURE_HEADER),
    )
    if not valid:
        raise Unauthorized("missing, wrong or stale EMS signature")


def verify_payment_request(request, config: dict) -> None:
    secret = _secret(config, "PAYMENT_WEBHOOK_SECRET")
    # The same HMAC scheme as EMS's, under the platform's own headers and secret.
    valid = secret is not None and ems_signature.verify(
        secret,
        request.headers.get(PAYMENT_TIMESTAMP_HEADER),
        request.get_data(cache=True),
        request.headers.get(PAYMENT_SIGNATURE_HEADER),
    )
    if not valid:
        raise Unauthorized("missing, wrong or stale payment signature")


def _secret(config: dict, name: str) -> bytes | None:
    """The configured secret; its development default only in development;
    None (nothing verifies) otherwise."""
    configured = str(config.get(name) or "")
    if configured:
        return configured.encode("utf-8")
    try:
        development = is_development(config)
    except ValueError:
        development = False
    return WEBHOOK_SECRETS[name].encode("utf-8") if development else None
