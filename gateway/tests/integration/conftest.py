import time

import pytest
import requests
from nameko.testing.services import replace_dependencies

from gateway.service import GatewayService

EMS_SECRET = "test-ems-secret"


class Gateway:
    def __init__(self, base_url, rpc, signer, container):
        self.base_url = base_url
        self.rpc = rpc
        self.signer = signer
        self.container = container
        self.http = requests.Session()

    def request(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(
            method, self.base_url + path, headers=headers, timeout=10, **kwargs
        )

    def token(self, **claims) -> str:
        return self.signer.token(**claims)


@pytest.fixture
def start_gateway(container_factory, amqp_uri, fake_rpc, signer, free_port):
    started = []

    def start(**config_overrides) -> Gateway:
        port = free_port()
        config = {
            "AMQP_URI": amqp_uri,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
            "EMS_WEBHOOK_SECRET": EMS_SECRET,
            "CATALOG_CACHE_SECONDS": 30,
            "AUTH_RATE_PER_SECOND": 50,
            "AUTH_RATE_BURST": 100,
            "JWKS_RETRY_SECONDS": 0.1,
            **config_overrides,
        }
        container = container_factory(GatewayService, config)
        replace_dependencies(container, rpc=fake_rpc)
        container.start()
        keyring = next(d for d in container.dependencies if d.attr_name == "keys")
        deadline = time.monotonic() + 10
        while not keyring.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        started.append(Gateway(f"http://127.0.0.1:{port}", fake_rpc, signer, container))
        return started[-1]

    yield start
    # A kept-alive connection would hold the web server's stop for a second.
    for gateway in started:
        gateway.http.close()


@pytest.fixture
def gateway(start_gateway) -> Gateway:
    return start_gateway()
