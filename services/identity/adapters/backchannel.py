"""Back-Channel Logout 1.0 delivery: POST a logout token to a department system.

Nothing is retried here: a failed delivery raises, and the event consumer
tries the ``backchannel_logout_due`` event again later with its own delays
(then dead-letters it). Redirects are not followed: the token goes to the
registered URI or nowhere.
"""

from __future__ import annotations

import requests

from services.common.errors import Unavailable

# RFC: 200 OK (or 204 No Content) means the client signed the user out.
DELIVERED = frozenset({200, 204})


class BackchannelLogoutFailed(Unavailable):
    """The department system did not confirm the logout; try again later."""

    code = "backchannel_logout_failed"


class BackchannelClient:
    """Sends logout tokens; one pooled ``requests`` session per container."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = requests.Session()

    def deliver(self, uri: str, logout_token: str) -> int:
        """POST ``logout_token=<jwt>`` to ``uri``; its status when it is 200 or
        204, else BackchannelLogoutFailed (no answer, a redirect, an error)."""
        try:
            response = self.session.post(
                uri,
                data={"logout_token": logout_token},
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise BackchannelLogoutFailed(
                f"back-channel logout failed: {type(error).__name__}"
            ) from None
        if response.status_code not in DELIVERED:
            raise BackchannelLogoutFailed(
                f"back-channel logout answered {response.status_code}",
                {"status": str(response.status_code)},
            )
        return response.status_code

    def close(self) -> None:
        self.session.close()
