"""Structured logs: one JSON line per event, with its context (shop, order, job), secrets hidden."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO
from urllib.parse import urlsplit

# Attributes every LogRecord has; anything else was passed with `extra=` and is context.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "event": record.getMessage()}
        event.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


class RedactingFilter(logging.Filter):
    """Replace every known secret in a formatted line by ***."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(sorted(set(secrets), key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                for secret in self.secrets:
                    value = value.replace(secret, "***")
                setattr(record, key, value)
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.exc_info, record.exc_text = None, None
            record.msg = f"{record.msg}\n{text}"
        return True


def url_password(url: str) -> str | None:
    """Return the password inside a database URL, so that it can be hidden too."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def setup_logging(level: str = "info", secrets: tuple[str, ...] = (), stream: TextIO | None=None) -> None:
    """Send bridge's logs (and the servers') to `stream` as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bridge", False):
            root.removeHandler(old)
    handler._bridge = True
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel("WARNING")
