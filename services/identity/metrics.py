"""Business counters of the identity service (Prometheus).

Entrypoint latency and outcome, and events written, are counted by the shared
package; these count what the identity business wants to watch.
"""

from prometheus_client import Counter

REGISTRATIONS = Counter(
    "tongban_identity_registrations",
    "Accounts created, by kind (citizen, staff, operator).",
    ["kind"],
)
REAL_NAME_VERIFICATIONS = Counter(
    "tongban_identity_real_name_verifications",
    "Real-name verification attempts, by outcome "
    "(verified, unchanged, invalid, conflict, not_found).",
    ["outcome"],
)
LOGINS = Counter(
    "tongban_identity_logins",
    "Login attempts, by outcome (success, unknown_phone, wrong_password, locked).",
    ["outcome"],
)
LOGIN_LOCKS = Counter(
    "tongban_identity_login_locks",
    "Sign-in locks after too many failed logins, by scope (phone, address).",
    ["scope"],
)
REFRESHES = Counter(
    "tongban_identity_token_refreshes",
    "Refresh-token rotations, by outcome (success, rejected, reused).",
    ["outcome"],
)
ENTERPRISE_MEMBERS = Counter(
    "tongban_identity_enterprise_members",
    "Enterprise membership changes, by action (added, removed).",
    ["action"],
)
MANDATES = Counter(
    "tongban_identity_mandates",
    "Mandates to agents, by action (granted, revoked) and principal kind (enterprise, person).",
    ["action", "principal_kind"],
)
AUTHORISATIONS = Counter(
    "tongban_identity_principal_authorisations",
    "Checks that an account may act for a principal, by outcome (owner, member, mandate, refused).",
    ["outcome"],
)
OIDC_TOKENS = Counter(
    "tongban_identity_oidc_tokens",
    "Token endpoint answers to department systems, by grant type and outcome"
    " (issued, or the OAuth error).",
    ["grant_type", "outcome"],
)
BACKCHANNEL_LOGOUTS = Counter(
    "tongban_identity_backchannel_logouts",
    "Back-channel logout deliveries, by outcome (delivered, failed, skipped).",
    ["outcome"],
)
