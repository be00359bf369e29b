"""``python -m simulators.payment --host 127.0.0.1 --port 8500
--webhook-url http://127.0.0.1:8000/api/v1/webhooks/payment``.

Environment: PAYMENT_HOST, PAYMENT_PORT, PAYMENT_WEBHOOK_URL and
PAYMENT_PUBLIC_URL (flags win over them); PAYMENT_API_KEY and
PAYMENT_WEBHOOK_SECRET (environment only, never a flag). Stops cleanly on
SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from ..server import argument_parser, configure_logging, serve_until_signalled
from .app import DEFAULT_API_KEY, DEFAULT_PORT, DEFAULT_WEBHOOK_SECRET, SimulatorServer

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "DEFAULT_WEBHOOK_SECRET", "main", "parse_args"]


def parse_args(argv: list[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argument_parser(
        "python -m simulators.payment",
        "Payment platform simulator (orders, a cashier, refunds, signed notices)",
        environ=environ,
        prefix="PAYMENT",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--webhook-url",
        default=environ.get("PAYMENT_WEBHOOK_URL") or None,
        help="where notices of paid orders are POSTed (default: $PAYMENT_WEBHOOK_URL; none)",
    )
    parser.add_argument(
        "--public-url",
        default=environ.get("PAYMENT_PUBLIC_URL") or None,
        help="the cashier's address in pay URLs (default: $PAYMENT_PUBLIC_URL, else its own)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    configure_logging(args.log_level)
    server = SimulatorServer(
        args.host,
        args.port,
        api_key=os.environ.get("PAYMENT_API_KEY") or DEFAULT_API_KEY,
        webhook_url=args.webhook_url,
        webhook_secret=(
            os.environ.get("PAYMENT_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET
        ).encode(),
        public_url=args.public_url,
    )
    serve_until_signalled(server, started=f"notices to {args.webhook_url or '(nowhere)'}")


if __name__ == "__main__":
    main()
