"""``python -m simulators.ems --host 127.0.0.1 --port 8200
--webhook-url http://127.0.0.1:8000/api/v1/webhooks/ems --step-seconds 2``.

Environment: EMS_WEBHOOK_SECRET, EMS_API_KEY, EMS_STEP_SECONDS, EMS_WEBHOOK_URL,
EMS_SIM_FAIL_RATE (the share of waybills that fail on the way, 0..1, default 0)
(flags win over the environment). Stops cleanly on SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from ..server import configure_logging, serve_until_signalled
from .app import SimulatorServer

# Development defaults only; deployments set both in the environment.
DEFAULT_WEBHOOK_SECRET = "dev-ems-webhook-secret"  # noqa: S105
DEFAULT_API_KEY = "dev-ems-api-key"
DEFAULT_PORT = 8200


def parse_args(argv: list[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.ems",
        description="EMS order API simulator",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
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
    parser.add_argument(
        "--fail-rate",
        type=_fail_rate,
        # A string: argparse converts it with ``type`` and names the option.
        default=environ.get("EMS_SIM_FAIL_RATE") or "0",
        help="share of waybills that fail on the way, 0..1 (default: $EMS_SIM_FAIL_RATE or 0)",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _fail_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"the fail rate is a number within 0..1, not {text!r}")
    return rate


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    configure_logging(args.log_level)
    # Secrets come from the environment only, never the command line.
    server = SimulatorServer(
        args.host,
        args.port,
        api_key=os.environ.get("EMS_API_KEY") or DEFAULT_API_KEY,
        webhook_url=args.webhook_url,
        webhook_secret=(os.environ.get("EMS_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET).encode(),
        step_seconds=args.step_seconds,
        fail_rate=args.fail_rate,
    )
    serve_until_signalled(
        server,
        started=f"webhooks to {args.webhook_url or '(nowhere)'} every {args.step_seconds}s",
    )


if __name__ == "__main__":
    main()
