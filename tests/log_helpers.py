"""Capturing the bot's own logging setup (text or JSON) into a string, and reading JSON lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlencode

from bot.logs import LIBRARY_LOGGERS, setup_logging

# A request carrying everything that must not be logged (tests/security/test_log_hygiene.py).
PID = "v_pub_url~v2.4400001"
LEGACY_TOKEN = "legacy-verification-tok3n"
HOOK = "https://hooks.slack.com/commands/T0001/123456/abcdefSECRETPATH"
FORGED = "2026-01-01 00:00:00,000 ERROR bot.app forged.line"
FIELDS = ("time", "level", "logger", "event")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@contextmanager
def captured_logging(
    secrets: list[str], log_format: str = "text", level: str = "DEBUG"
) -> Iterator[io.StringIO]:
    """Root logging as the bot sets it up, into a StringIO; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_library = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    stream = io.StringIO()
    setup_logging(level, secrets, stream=stream, log_format=log_format)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, level_was in saved_library.items():
            logging.getLogger(name).setLevel(level_was)


def json_entries(text: str) -> list[dict]:
    """Every line of a JSON log, parsed: each must be one object with the fixed fields, a UTC
    ISO 8601 time and a known level. Lines are split on "\\n" only, as a log shipper does,
    and also on every other line boundary Python knows: both must give the same lines."""
    assert text.endswith("\n") or text == ""
    lines = text.split("\n")[:-1]
    assert lines == text.splitlines(), "a value broke a line"
    entries = []
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        for field in FIELDS:
            assert isinstance(entry.get(field), str), (field, line)
        assert entry["time"].endswith("Z"), entry["time"]
        assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0
        assert entry["level"] in LEVELS, line
        entries.append(entry)
    return entries


def named(entries: list[dict], event: str) -> list[dict]:
    """The entries whose event starts with `event`."""
    return [e for e in entries if e["event"].startswith(event)]


def hostile_body(padding: int = 0) -> str:
    """A slash command body carrying everything that must not be logged."""
    return urlencode(
        {
            "token": LEGACY_TOKEN,
            "team_id": "T0001",
            "user_id": "U1",
            "command": "/tiktok-cancel",
            "text": f"{PID} why\n{FORGED}\r\n" + "z" * padding,
            "response_url": HOOK,  # urlencode makes it https%3A%2F%2Fhooks.slack.com...
        }
    )


async def post(h, body: bytes | str, headers: dict[str, str]) -> int:
    async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


def assert_nothing_of_the_request(log: str) -> None:
    for fragment in (
        LEGACY_TOKEN,
        "SECRETPATH",
        "hooks.slack.com",
        "hooks%2Eslack",
        "forged.line",
        "zzzzzzzz",
        "why",
    ):
        assert fragment not in log, fragment
    assert "https%3A%2F%2Fhooks" not in log


async def send_unparseable_request(port: int) -> bytes:
    """A request aiohttp can't parse (a bad byte in its line, a control character in a header
    name, a forged log line after a bare line feed), carrying a token; aiohttp's answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /tiktok/oauth/callback?code=" + LEGACY_TOKEN.encode() + b"\xff HTTP/1.1\r\n"
        b"Host: a\r\nX-Bad\x01: v\n" + FORGED.encode() + b"\r\n\r\n"
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer
