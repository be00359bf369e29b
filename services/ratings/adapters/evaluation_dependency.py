"""The settings of evaluation, read from the service's config once at start.

- REVIEW_WINDOW_DAYS: calendar days after the day a case ended in which it may
  be reviewed (30 unless set);
- VISIT_TOKEN_DAYS: days a window visit's rating token stays valid (7 unless set);
- PORTAL_URL: where the SMS of a window visit sends the citizen to rate it
  (``<PORTAL_URL>/rate?token=…``).

A bad value stops the service at start, naming the setting, rather than
failing the first review.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider

from services.ratings.domain.model import REVIEW_WINDOW_DAYS, VISIT_TOKEN_DAYS, EvaluationPolicy

MAX_DAYS = 365
DEFAULT_PORTAL_URL = "http://127.0.0.1:8000"


def _days(config: dict, name: str, default: int) -> int:
    value = config.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise ValueError(f"{name} must be a whole number of days, 1..{MAX_DAYS}; got {value!r}")
    return int(text)


def _portal_url(config: dict) -> str:
    value = config.get("PORTAL_URL")
    if value is None or value == "":
        return DEFAULT_PORTAL_URL
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"PORTAL_URL must be an http(s) address without query or fragment; got {value!r}"
        )
    return text.rstrip("/")


@dataclass(frozen=True)
class EvaluationSettings:
    policy: EvaluationPolicy
    portal_url: str

    @classmethod
    def from_config(cls, config: dict) -> EvaluationSettings:
        """The settings in ``config``; ValueError naming a bad one."""
        return cls(
            policy=EvaluationPolicy(
                review_window_days=_days(config, "REVIEW_WINDOW_DAYS", REVIEW_WINDOW_DAYS),
                visit_token_days=_days(config, "VISIT_TOKEN_DAYS", VISIT_TOKEN_DAYS),
            ),
            portal_url=_portal_url(config),
        )


class Evaluation(DependencyProvider):
    """Gives each worker the evaluation settings, read when the service starts."""

    def setup(self):
        self.settings = EvaluationSettings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings
