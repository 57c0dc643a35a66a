"""The server's request log without the secrets some paths carry.

A panellist's personal link (/take-part/<token>) and unsubscribe link (/unsubscribe/<token>) work
as their sign-in: anyone who reads a log line with the token can act as them. uvicorn logs each
request's path, so its access logger gets this filter (cli._serve's log configuration), which
keeps the path's shape and replaces the token with "…".
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_SECRET_PATH = re.compile(r"^(/(?:take-part|unsubscribe)/)[^/?#\s]+")
REDACTED = "…"


def redact(path: str) -> str:
    """'/take-part/abc123?x=1' -> '/take-part/…?x=1'; other paths unchanged."""
    return _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, path)


class RedactTokens(logging.Filter):
    """uvicorn.access records carry (client, method, path, http version, status) as args."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, with the access log filtered (it is given by name,
    so each worker process sets it up itself)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "codesign.web.access_log.RedactTokens"}
    config["handlers"]["access"].setdefault("filters", []).append("redact_tokens")
    return config
