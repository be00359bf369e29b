"""The data exchange client as a nameko dependency: one pooled client per container."""

from nameko.extensions import DependencyProvider

from services.workflow.adapters.data_exchange import DataExchangeClient

DEFAULT_BASE_URL = "http://127.0.0.1:8300"


def setting(config: dict, name: str, default, cast):
    """``config[name]`` as ``cast``; ``default`` when missing or empty (0 is a value)."""
    value = config.get(name)
    return default if value is None or value == "" else cast(value)


class DataExchange(DependencyProvider):
    """Gives workers the container's :class:`DataExchangeClient`.

    Config: DATA_EXCHANGE_URL, DATA_EXCHANGE_API_KEY; optional
    DATA_EXCHANGE_CONNECT_TIMEOUT_SECONDS (2), DATA_EXCHANGE_READ_TIMEOUT_SECONDS
    (5), DATA_EXCHANGE_RETRIES (2) and DATA_EXCHANGE_BACKOFF_SECONDS (0.2) for
    the client's own retries of connection errors and 5xx answers.
    """

    def __init__(self):
        self.client: DataExchangeClient | None = None

    def setup(self):
        config = self.container.config
        self.client = DataExchangeClient(
            str(config.get("DATA_EXCHANGE_URL") or DEFAULT_BASE_URL),
            str(config.get("DATA_EXCHANGE_API_KEY") or ""),
            timeout=(
                setting(config, "DATA_EXCHANGE_CONNECT_TIMEOUT_SECONDS", 2.0, float),
                setting(config, "DATA_EXCHANGE_READ_TIMEOUT_SECONDS", 5.0, float),
            ),
            retries=setting(config, "DATA_EXCHANGE_RETRIES", 2, int),
            backoff_factor=setting(config, "DATA_EXCHANGE_BACKOFF_SECONDS", 0.2, float),
        )

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.client
