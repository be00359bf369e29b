"""Container health check: ``python -m operations.healthcheck``.

Asks this container's process for ``/healthz`` on the port of
``WEB_SERVER_ADDRESS`` (the gateway's 8000 when unset) and exits 0 when it
answers 200. Docker's HEALTHCHECK runs it; Kubernetes uses its own probes.
"""

import os
import sys
import urllib.request

DEFAULT_ADDRESS = "0.0.0.0:8000"


def health_url(address: str) -> str:
    host, _, port = (address or DEFAULT_ADDRESS).rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104  (a bind-all address, not a bind)
        host = "127.0.0.1"
    return f"http://{host}:{int(port)}/healthz"


def main() -> int:
    url = health_url(os.environ.get("WEB_SERVER_ADDRESS", ""))
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310  (http to ourselves)
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
