"""``python -m services.courier.ems_simulator --host 127.0.0.1 --port 8200
--webhook-url http://127.0.0.1:8000/api/v1/webhooks/ems --step-seconds 2``.

Environment: EMS_WEBHOOK_SECRET, EMS_API_KEY, EMS_STEP_SECONDS, EMS_WEBHOOK_URL
(flags win over the environment). Stops cleanly on SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from .app import SimulatorServer

# Development defaults only; deployments set both in the environment.
DEFAULT_WEBHOOK_SECRET = "dev-ems-webhook-secret"  # noqa: S105
DEFAULT_API_KEY = "dev-ems-api-key"


def parse_args(argv: list[str] | None, environ: os._Environ | dict) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.courier.ems_simulator",
        description="EMS order API simulator",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument(
        "--webhook-url",
        default=environ.get("EMS_WEBHOOK_URL") or None,
        help="where tracking scans are POSTed (default: $EMS_WEBHOOK_URL; none: not sent)",
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=float(environ.get("EMS_STEP_SECONDS") or 2),
        help="seconds between a waybill's states (default: $EMS_STEP_SECONDS or 2)",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Secrets come from the environment only, never the command line.
    server = SimulatorServer(
        args.host,
        args.port,
        api_key=os.environ.get("EMS_API_KEY") or DEFAULT_API_KEY,
        webhook_url=args.webhook_url,
        webhook_secret=(os.environ.get("EMS_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET).encode(),
        step_seconds=args.step_seconds,
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, frame: stopping.set())
    server.start()
    logging.getLogger(__name__).info(
        "webhooks to %s every %ss", args.webhook_url or "(nowhere)", args.step_seconds
    )
    stopping.wait()
    logging.getLogger(__name__).info("stopping")
    server.stop()
    logging.getLogger(__name__).info("stopped")


if __name__ == "__main__":
    main()
