"""``python -m simulators.department_portal --host 127.0.0.1 --port 8600
--issuer http://127.0.0.1:8000 --client-id gjj-suzhou --base-url
http://127.0.0.1:8600``.

Environment: DEPARTMENT_PORTAL_HOST and DEPARTMENT_PORTAL_PORT, OIDC_ISSUER
(the provider: tongban's gateway), DEPARTMENT_PORTAL_CLIENT_ID and
DEPARTMENT_PORTAL_BASE_URL (flags win over them);
DEPARTMENT_PORTAL_CLIENT_SECRET (environment only, never a flag). The client
must be registered at the provider with this system's URIs
(``app.client_registration``); the local cluster does that. Stops cleanly on
SIGTERM and SIGINT.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from ..server import argument_parser, configure_logging, serve_until_signalled
from .app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PORT, PortalServer

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_PORT", "main", "parse_args"]

DEFAULT_ISSUER = "http://127.0.0.1:8000"


def parse_args(argv: list[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argument_parser(
        "python -m simulators.department_portal",
        "Demo department system signing people in through tongban (OpenID Connect)",
        environ=environ,
        prefix="DEPARTMENT_PORTAL",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--issuer",
        default=environ.get("OIDC_ISSUER") or DEFAULT_ISSUER,
        help=f"the provider's issuer URL (default: $OIDC_ISSUER or {DEFAULT_ISSUER})",
    )
    parser.add_argument(
        "--client-id",
        default=environ.get("DEPARTMENT_PORTAL_CLIENT_ID") or DEFAULT_CLIENT_ID,
        help="this system's client id "
        f"(default: $DEPARTMENT_PORTAL_CLIENT_ID or {DEFAULT_CLIENT_ID})",
    )
    parser.add_argument(
        "--base-url",
        default=environ.get("DEPARTMENT_PORTAL_BASE_URL") or None,
        help="this system's URL as browsers reach it "
        "(default: $DEPARTMENT_PORTAL_BASE_URL or http://<host>:<port>)",
    )
    args = parser.parse_args(argv)
    if args.base_url is None:
        args.base_url = f"http://{args.host}:{args.port}"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    configure_logging(args.log_level)
    server = PortalServer(
        args.host,
        args.port,
        issuer=args.issuer,
        base_url=args.base_url,
        client_id=args.client_id,
        # Secrets come from the environment only, never the command line.
        client_secret=os.environ.get("DEPARTMENT_PORTAL_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET,
    )
    serve_until_signalled(server, started=f"{args.base_url}, signing in at {args.issuer}")


if __name__ == "__main__":
    main()
