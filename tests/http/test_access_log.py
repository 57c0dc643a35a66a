"""The server's request log never holds a personal link's token (web/access_log.py)."""

from __future__ import annotations

import contextlib
import logging
import urllib.request
from pathlib import Path

from codesign.web.access_log import RedactTokens, redact
from tests.live_server import ServedApp


def test_redact_keeps_the_shape_and_drops_the_token() -> None:
    assert redact("/take-part/Abc_123-xyz") == "/take-part/…"
    assert redact("/unsubscribe/Abc_123?from=mail") == "/unsubscribe/…?from=mail"
    assert redact("/p/public-token") == "/p/public-token"  # the public framework page is public
    assert redact("/sessions/3/take-part/x") == "/sessions/3/take-part/x"
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/take-part/SECRET", "1.1", 200), None)
    assert RedactTokens().filter(record) and record.getMessage() == '127.0.0.1:5000 - "GET /take-part/… HTTP/1.1" 200'


def test_the_served_app_logs_no_link_tokens(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with ServedApp(database_url, "s" * 40, workers=2, log=log, CODESIGN_LOG_LEVEL="info") as served:
        for path in ("/take-part/TOKENtakepart1234567890", "/unsubscribe/TOKENunsub1234567890", "/healthz"):
            # An unknown token is refused (an HTTP error here): the request is logged all the same.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(served.url + path, timeout=30).close()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "GET /take-part/… HTTP/1.1" in text and "GET /unsubscribe/… HTTP/1.1" in text
    assert "TOKENtakepart" not in text and "TOKENunsub" not in text
