"""Signed callbacks of outside parties: the signature over the raw body is
checked first.

EMS signs ``timestamp + "." + body`` with the shared secret
(``EMS_WEBHOOK_SECRET``) and sends ``X-EMS-Timestamp`` and ``X-EMS-Signature``;
the payment platform signs the same way with its own secret
(``PAYMENT_WEBHOOK_SECRET``) and sends ``X-Payment-Timestamp`` and
``X-Payment-Signature``. A missing, wrong or stale (more than 5 minutes off)
signature is a 401 and the body is not even parsed.
"""

from services.common import ems_signature
from services.common.errors import Unauthorized

# The development default of config/service.yaml; production sets its own.
DEFAULT_SECRET = "dev-ems-webhook-secret"  # noqa: S105
DEFAULT_PAYMENT_SECRET = "dev-payment-webhook-secret"  # noqa: S105
PAYMENT_TIMESTAMP_HEADER = "X-Payment-Timestamp"
PAYMENT_SIGNATURE_HEADER = "X-Payment-Signature"


def verify_ems_request(request, config: dict) -> None:
    secret = str(config.get("EMS_WEBHOOK_SECRET") or DEFAULT_SECRET).encode("utf-8")
    valid = ems_signature.verify(
        secret,
        request.headers.get(ems_signature.TIMESTAMP_HEADER),
        request.get_data(cache=True),
        request.headers.get(ems_signature.SIGNATURE_HEADER),
    )
    if not valid:
        raise Unauthorized("missing, wrong or stale EMS signature")


def verify_payment_request(request, config: dict) -> None:
    secret = str(config.get("PAYMENT_WEBHOOK_SECRET") or DEFAULT_PAYMENT_SECRET).encode("utf-8")
    # The same HMAC scheme as EMS's, under the platform's own headers and secret.
    valid = ems_signature.verify(
        secret,
        request.headers.get(PAYMENT_TIMESTAMP_HEADER),
        request.get_data(cache=True),
        request.headers.get(PAYMENT_SIGNATURE_HEADER),
    )
    if not valid:
        raise Unauthorized("missing, wrong or stale payment signature")
