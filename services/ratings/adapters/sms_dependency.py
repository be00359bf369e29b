"""The SMS gateway client as a nameko dependency: one pooled client per container."""

from nameko.extensions import DependencyProvider

from services.ratings.adapters.sms import SmsClient

DEFAULT_BASE_URL = "http://127.0.0.1:8400"


def setting(config: dict, name: str, default, cast):
    """``config[name]`` as ``cast``; ``default`` when missing or empty (0 is a value)."""
    value = config.get(name)
    return default if value is None or value == "" else cast(value)


class Sms(DependencyProvider):
    """Gives workers the container's :class:`SmsClient`.

    Config: SMS_URL, SMS_API_KEY; optional SMS_CONNECT_TIMEOUT_SECONDS (3.05),
    SMS_READ_TIMEOUT_SECONDS (10), SMS_RETRIES (2) and SMS_BACKOFF_SECONDS
    (0.5) for the client's own quick retries of connection errors and 5xx
    answers (the relay retries a message later by itself).
    """

    def __init__(self):
        self.client: SmsClient | None = None

    def setup(self):
        config = self.container.config
        self.client = SmsClient(
            str(config.get("SMS_URL") or DEFAULT_BASE_URL),
            str(config.get("SMS_API_KEY") or ""),
            timeout=(
                setting(config, "SMS_CONNECT_TIMEOUT_SECONDS", 3.05, float),
                setting(config, "SMS_READ_TIMEOUT_SECONDS", 10.0, float),
            ),
            retries=setting(config, "SMS_RETRIES", 2, int),
            backoff_factor=setting(config, "SMS_BACKOFF_SECONDS", 0.5, float),
        )

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.client
