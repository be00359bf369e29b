"""``python -m simulators.sms --host 127.0.0.1 --port 8400``.

Environment: SMS_HOST and SMS_PORT (flags win over them), SMS_API_KEY (the key
callers send as ``X-Api-Key``; environment only, never a flag). Keeps the latest
``--keep`` messages (default 10000) in memory. Stops cleanly on SIGTERM and
SIGINT.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from ..server import argument_parser, configure_logging, serve_until_signalled
from .app import DEFAULT_API_KEY, DEFAULT_PORT, SimulatorServer
from .messages import DEFAULT_CAPACITY, Messages

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "main", "parse_args"]


def parse_args(argv: list[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argument_parser(
        "python -m simulators.sms",
        "SMS gateway simulator (texts to citizens, an inbox per phone)",
        environ=environ,
        prefix="SMS",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_CAPACITY,
        help=f"messages kept in memory, the oldest forgotten first (default {DEFAULT_CAPACITY})",
    )
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    configure_logging(args.log_level)
    server = SimulatorServer(
        args.host,
        args.port,
        api_key=os.environ.get("SMS_API_KEY") or DEFAULT_API_KEY,
        messages=Messages(capacity=args.keep),
    )
    serve_until_signalled(server, started=f"keeping the latest {args.keep} messages")


if __name__ == "__main__":
    main()
