"""No secret leaves the bot: a whole session at DEBUG, then every place a token could land is
searched for every token (log, SQLite file and its WAL, every Slack message)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from bot.logs import ScrubbingFormatter
from tests.conftest import db_bytes
from tests.log_helpers import captured_logging
from tests.secrets_helpers import PID, TOKEN_SHAPES, every_secret, leaks, whole_session


@pytest.fixture
def captured_log(h):
    """Root logging as the bot sets it up at DEBUG, into a StringIO; restored afterwards."""
    with captured_logging(h.settings.secrets()) as stream:
        yield stream


async def test_no_secret_anywhere_after_a_debug_session(h, captured_log):
    await whole_session(h)
    await h.stop()  # drain background posts and close the database
    secrets = every_secret(h)
    assert len(h.tiktok.grants) >= 2  # a link and a refresh: two token pairs to look for

    log = captured_log.getvalue()
    assert "cancel.finished" in log  # the capture really saw the session
    assert leaks(log, secrets) == []

    db = Path(h.settings.database_path)
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")):
        if path.exists():
            assert leaks(path.read_bytes(), secrets) == [], path

    assert h.slack.calls, "the session posted nothing to Slack?"
    for call in h.slack.calls:
        assert leaks(json.dumps(call.params), secrets) == [], call.method
    for url, bodies in h.slack.responses.items():
        assert bodies
        for body in bodies:
            assert leaks(json.dumps(body), secrets) == [], url


async def test_no_secret_in_the_database_while_linked(h):
    """The tokens of a live link are on disk only encrypted (WAL included)."""
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    await h.command(PID)
    secrets = every_secret(h)
    if h.settings.database_url:  # PostgreSQL: every row of every table
        assert leaks(db_bytes(h), secrets) == []
        return
    db = Path(h.settings.database_path)
    wal = db.with_name(db.name + "-wal")
    assert wal.exists()
    for path in (db, wal):
        assert leaks(path.read_bytes(), secrets) == [], path


# --- the formatter itself ----------------------------------------------------------------


def format_with(secrets: list[str], msg: str, *args, **extra) -> str:
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return ScrubbingFormatter(secrets).format(record)


@pytest.mark.parametrize("token", TOKEN_SHAPES)
def test_formatter_redacts_token_shapes(token):
    line = format_with([], "got %s from TikTok", token)
    assert token not in line
    assert "[redacted]" in line
    assert "from TikTok" in line


def test_formatter_redacts_configured_secret_in_message_args_and_extras():
    secret = "my-signing-secret-42"
    line = format_with([secret], f"verifying with {secret} and %s", secret, detail=secret)
    assert secret not in line
    assert line.count("[redacted]") == 3


def test_formatter_redacts_bearer_header_and_tokens_in_extras():
    line = format_with(
        [], "request", headers={"Authorization": "Bearer act.abcdef123"}, token="rft.zzz999"
    )
    assert "act.abcdef123" not in line
    assert "rft.zzz999" not in line


def test_formatter_redacts_the_oauth_code_bolt_logs_when_an_install_fails():
    code = "1234567890.987654321.abcdef0123456789"
    line = format_with([], f"Failed to fetch oauth.v2.access result with code: {code} - error: x")
    assert code not in line and "[redacted]" in line


def test_formatter_keeps_ordinary_text():
    line = format_with(["s3cr3t-value"], "cancel.finished", code="ok", log_id="2026ABC")
    assert "cancel.finished" in line
    assert "code='ok'" in line
    assert "2026ABC" in line
    assert "[redacted]" not in line


def test_formatter_redacts_in_tracebacks():
    secret = "traceback-secret-77"
    try:
        raise ValueError(f"bad token {secret} act.inside.exception")
    except ValueError:
        record = logging.LogRecord(
            "bot.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = ScrubbingFormatter([secret]).format(record)
    assert "ValueError" in line
    assert secret not in line
    assert "act.inside.exception" not in line
