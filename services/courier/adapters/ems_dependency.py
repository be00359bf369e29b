"""The EMS client as a nameko dependency: one pooled client per container."""

from nameko.extensions import DependencyProvider

from services.courier.adapters.ems import EmsClient

DEFAULT_BASE_URL = "http://127.0.0.1:8200"


class Ems(DependencyProvider):
    """Gives workers the container's :class:`EmsClient`.

    Config: EMS_BASE_URL, EMS_API_KEY; optional EMS_CONNECT_TIMEOUT_SECONDS (3.05),
    EMS_READ_TIMEOUT_SECONDS (10), EMS_RETRIES (3) and EMS_BACKOFF_SECONDS (0.5)
    for the client's own retries of connection errors and 502/503/504.
    """

    def __init__(self):
        self.client: EmsClient | None = None

    def setup(self):
        config = self.container.config
        self.client = EmsClient(
            str(config.get("EMS_BASE_URL") or DEFAULT_BASE_URL),
            str(config.get("EMS_API_KEY") or ""),
            timeout=(
                float(config.get("EMS_CONNECT_TIMEOUT_SECONDS", 3.05)),
                float(config.get("EMS_READ_TIMEOUT_SECONDS", 10)),
            ),
            retries=int(config.get("EMS_RETRIES", 3)),
            backoff_factor=float(config.get("EMS_BACKOFF_SECONDS", 0.5)),
        )

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.client
