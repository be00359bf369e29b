"""The data exchange client as a nameko dependency: one pooled client per container."""

from services.common.http import PartyClientProvider
from services.workflow.adapters.data_exchange import DataExchangeClient

DEFAULT_BASE_URL = "http://127.0.0.1:8300"


class DataExchange(PartyClientProvider):
    """Gives workers the container's :class:`DataExchangeClient`.

    Config: DATA_EXCHANGE_URL, DATA_EXCHANGE_API_KEY; optional
    DATA_EXCHANGE_CONNECT_TIMEOUT_SECONDS (2), DATA_EXCHANGE_READ_TIMEOUT_SECONDS
    (5), DATA_EXCHANGE_RETRIES (2) and DATA_EXCHANGE_BACKOFF_SECONDS (0.2) for
    the client's own retries of connection errors and 5xx answers.
    """

    client_class = DataExchangeClient
    prefix = "DATA_EXCHANGE"
    url_setting = "DATA_EXCHANGE_URL"
    default_base_url = DEFAULT_BASE_URL
    default_timeout = (2.0, 5.0)
    default_retries = 2
    default_backoff = 0.2
