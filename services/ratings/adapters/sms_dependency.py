"""The SMS gateway client as a nameko dependency: one pooled client per container."""

from services.common.http import PartyClientProvider
from services.ratings.adapters.sms import SmsClient

DEFAULT_BASE_URL = "http://127.0.0.1:8400"


class Sms(PartyClientProvider):
    """Gives workers the container's :class:`SmsClient`.

    Config: SMS_URL, SMS_API_KEY; optional SMS_CONNECT_TIMEOUT_SECONDS (3.05),
    SMS_READ_TIMEOUT_SECONDS (10), SMS_RETRIES (2) and SMS_BACKOFF_SECONDS
    (0.5) for the client's own quick retries of connection errors and 5xx
    answers (the relay retries a message later by itself).
    """

    client_class = SmsClient
    prefix = "SMS"
    url_setting = "SMS_URL"
    default_base_url = DEFAULT_BASE_URL
    default_timeout = (3.05, 10.0)
    default_retries = 2
    default_backoff = 0.5
