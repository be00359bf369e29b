"""``python -m simulators.data_exchange --host 127.0.0.1 --port 8300``.

Environment: DATA_EXCHANGE_HOST and DATA_EXCHANGE_PORT (flags win over them),
DATA_EXCHANGE_API_KEY (the key callers send as ``X-Api-Key``; environment only,
never a flag). Starts with the demo records (``demo.py``) unless ``--no-demo``.
Stops cleanly on SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from ..server import argument_parser, configure_logging, serve_until_signalled
from .app import DEFAULT_API_KEY, DEFAULT_PORT, SimulatorServer
from .demo import demo_people
from .records import Registers

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "main", "parse_args"]


def parse_args(argv: list[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argument_parser(
        "python -m simulators.data_exchange",
        "Government data exchange simulator (civil affairs, housing)",
        environ=environ,
        prefix="DATA_EXCHANGE",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="start with empty registers, not the demo records"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    configure_logging(args.log_level)
    registers = Registers([] if args.no_demo else demo_people())
    server = SimulatorServer(
        args.host,
        args.port,
        api_key=os.environ.get("DATA_EXCHANGE_API_KEY") or DEFAULT_API_KEY,
        registers=registers,
    )
    serve_until_signalled(server, started=f"demo records {'off' if args.no_demo else 'loaded'}")


if __name__ == "__main__":
    main()
