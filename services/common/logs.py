"""Structured (JSON) logs carrying the correlation id, with ID numbers masked."""

import contextvars
import datetime as dt
import json
import logging
import re
import sys

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

# An 18-character resident ID number anywhere in a message is masked; a log line
# must never carry one, even when a caller slips.
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(text: str) -> str:
    return _ID_NUMBER.sub(r"\1**********\2", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        current = correlation_id.get()
        if current:
            entry["correlation_id"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (int, float, bool)) else redact(str(value))
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class ExpectedErrors(logging.Filter):
    """Drops nameko's line about a worker that raised an expected error.

    An entrypoint expects the errors of its contract (a 404, a 409, a bad field):
    they are answers, not failures. nameko logs each with its traceback at warning;
    the entrypoint's metrics count them instead. Unexpected errors still reach the
    log, at error, with their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "nameko.containers"
            and str(record.msg).startswith("(expected) error handling worker")
        )


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(ExpectedErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Per-request access lines from eventlet's server add noise, not facts.
    logging.getLogger("eventlet.wsgi").setLevel("WARNING")
    logging.getLogger("nameko.web.server").setLevel("WARNING")
    logging.getLogger("amqp").setLevel("WARNING")
    logging.getLogger("kombu").setLevel("WARNING")
