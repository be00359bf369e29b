"""The OpenID provider's settings and its outside calls, as a nameko dependency.

Settings come from the service's config (OIDC_*): the issuer is the gateway's
public URL, and every endpoint is the issuer and its path.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from authlib.common.security import is_secure_transport
from nameko.extensions import DependencyProvider

from services.common.environment import RefusedToStart, is_development
from services.common.http import setting
from services.identity.adapters.backchannel import BackchannelClient

DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_BROWSER_SESSION_SECONDS = 28800
DEFAULT_CODE_SECONDS = 60
DEFAULT_ID_TOKEN_SECONDS = 600
DEFAULT_BACKCHANNEL_TIMEOUT_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OidcSettings:
    issuer: str = DEFAULT_ISSUER
    browser_session_ttl: timedelta = timedelta(seconds=DEFAULT_BROWSER_SESSION_SECONDS)
    code_ttl: timedelta = timedelta(seconds=DEFAULT_CODE_SECONDS)
    id_token_ttl: timedelta = timedelta(seconds=DEFAULT_ID_TOKEN_SECONDS)
    backchannel_timeout: float = DEFAULT_BACKCHANNEL_TIMEOUT_SECONDS

    def __post_init__(self):
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))

    @classmethod
    def from_config(cls, config: dict) -> OidcSettings:
        def seconds(name: str, default: int) -> timedelta:
            return timedelta(seconds=setting(config, name, default, float))

        return cls(
            issuer=str(setting(config, "OIDC_ISSUER", DEFAULT_ISSUER, str)),
            browser_session_ttl=seconds(
                "OIDC_BROWSER_SESSION_SECONDS", DEFAULT_BROWSER_SESSION_SECONDS
            ),
            code_ttl=seconds("OIDC_CODE_SECONDS", DEFAULT_CODE_SECONDS),
            id_token_ttl=seconds("OIDC_ID_TOKEN_SECONDS", DEFAULT_ID_TOKEN_SECONDS),
            backchannel_timeout=setting(
                config,
                "OIDC_BACKCHANNEL_TIMEOUT_SECONDS",
                DEFAULT_BACKCHANNEL_TIMEOUT_SECONDS,
                float,
            ),
        )


@dataclass
class OidcContext:
    """What the OIDC use cases need beside the unit of work and the keys."""

    settings: OidcSettings = field(default_factory=OidcSettings)
    backchannel: BackchannelClient | None = None

    def __post_init__(self):
        if self.backchannel is None:
            self.backchannel = BackchannelClient(self.settings.backchannel_timeout)


class Oidc(DependencyProvider):
    """Gives workers the container's :class:`OidcContext`, built from config."""

    def __init__(self):
        self.context: OidcContext | None = None

    def setup(self):
        settings = OidcSettings.from_config(self.container.config)
        check_issuer(settings.issuer, self.container.config)
        self.context = OidcContext(settings)

    def stop(self):
        if self.context is not None and self.context.backchannel is not None:
            self.context.backchannel.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.context


def check_issuer(issuer: str, config: dict) -> None:
    """The issuer must be https (http on a loopback host is fine: Authlib's
    transport check lets it through). Outside development anything else
    refuses to start; in development (a cluster reached over a LAN by plain
    http) Authlib is told to accept it, as its AUTHLIB_INSECURE_TRANSPORT
    setting is for, rather than fail every sign-in."""
    if is_secure_transport(issuer + "/"):
        return
    if not is_development(config):
        line = f"identity refuses to start: OIDC_ISSUER must be an https URL, not {issuer!r}"
        log.critical(line)
        raise RefusedToStart(line)
    log.warning("OIDC_ISSUER is plain http: accepted in development only")
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
