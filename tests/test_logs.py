"""Logs: one JSON object per line, with context, and never a secret."""

import io
import json
import logging

from bridge.basics.logs import setup_logging, url_password


def test_json_lines_with_context_and_secrets_hidden():
    stream = io.StringIO()
    setup_logging("info", ("cs_supersecret", "hunter2-password"), stream=stream)
    log = logging.getLogger("bridge.test")
    log.info("fetched order with key %s", "cs_supersecret", extra={"shop": "shop1", "order": 727})
    log.warning("smtp login", extra={"detail": "password hunter2-password refused"})
    try:
        raise ValueError("bad key cs_supersecret")
    except ValueError:
        log.exception("boom")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert lines[0]["event"] == "fetched order with key ***"
    assert lines[0]["shop"] == "shop1" and lines[0]["order"] == 727
    assert lines[1]["detail"] == "password *** refused"
    assert "cs_supersecret" not in stream.getvalue() and "hunter2-password" not in stream.getvalue()
    assert "ValueError: bad key ***" in lines[2]["event"]


def test_database_password_is_found():
    assert url_password("postgresql://bridge:s3cret-pw@db:5432/bridge") == "s3cret-pw"
    assert url_password("sqlite:///bridge.db") is None
