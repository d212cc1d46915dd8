"""Nothing of a request reaches the log: refused Slack requests are one line without their
body; no response_url (plain or URL-encoded), legacy `token` field or body text is written at
any level; no field value can start a new log line. All over HTTP to the running bot
(HTTP mode), reading what the bot's own logging setup (at DEBUG) wrote."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import ScrubbingFormatter
from sandbox.fakes.slack_requests import sign, slash_command_body
from tests.conftest import text_of
from tests.log_helpers import (
    FORGED,
    LEGACY_TOKEN,
    PID,
    assert_nothing_of_the_request,
    captured_logging,
    hostile_body,
    post,
    send_unparseable_request,
)

LIBRARIES = ("slack_bolt", "slack_sdk", "bolt", "aiohttp.access")


@pytest.fixture
def log_text(h):
    """Root logging as the bot sets it up, at DEBUG, into a StringIO; restored afterwards."""
    with captured_logging(h.settings.secrets()) as stream:
        yield stream.getvalue


def refused_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "slack.request_refused" in line]


async def test_a_900kb_unsigned_post_is_one_short_line_without_its_body(h, log_text):
    body = hostile_body(padding=900 * 1024)
    status = await post(h, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    log = log_text()
    assert len(log) < 2000, len(log)  # was 924 KB
    (line,) = refused_lines(log)
    assert "reason='unsigned'" in line and f"bytes={len(body.encode())}" in line
    assert_nothing_of_the_request(log)
    assert not any(line.startswith("2026-01-01") for line in log.splitlines())
    assert h.slack.calls == [] or all(c.method == "auth.test" for c in h.slack.calls)


async def test_a_wrong_signature_is_refused_and_not_logged(h, log_text):
    body = hostile_body()
    headers = sign("not-the-signing-secret", body)
    assert await post(h, body, headers) == 401
    log = log_text()
    (line,) = refused_lines(log)
    assert "reason='bad_signature'" in line
    assert "Invalid request signature" not in log  # Bolt never saw it
    assert_nothing_of_the_request(log)


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "", "١٢٣", "-5", "99999999999999999999"])
async def test_a_timestamp_that_is_not_a_number_is_a_4xx_and_one_line(h, log_text, timestamp):
    body = hostile_body()
    headers = sign(h.settings.slack_signing_secret, body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    status = await post(h, body.encode(), headers)
    assert status == 401
    log = log_text()
    assert len(refused_lines(log)) == 1
    assert "Traceback" not in log
    assert_nothing_of_the_request(log)


async def test_a_body_that_is_not_utf8_is_a_400_and_one_line(h, log_text):
    raw = hostile_body().encode() + b"&x=\xff\xfe\xc3("
    headers = sign(h.settings.slack_signing_secret, raw.decode("latin-1"))
    assert await post(h, raw, headers) == 400
    log = log_text()
    (line,) = refused_lines(log)
    assert "reason='body_not_utf8'" in line
    assert "Traceback" not in log
    assert_nothing_of_the_request(log)


async def test_a_signed_command_logs_no_token_response_url_or_text(h, log_text):
    """A real, signed slash command at DEBUG: the legacy token, the response_url and the
    typed text never reach the log (Bolt's own DEBUG lines included)."""
    response_url = h.slack.new_response_url()
    body = slash_command_body(f"status {PID} why\n{FORGED}", response_url=response_url)
    body = body.replace("deprecated-verification-token", LEGACY_TOKEN)
    assert LEGACY_TOKEN in body
    status, _ = await h.post_slack(body)
    assert status == 200
    (answer,) = await h.slack.wait_for_responses(response_url, 1, timeout=10)
    assert text_of(answer)
    log = log_text()
    assert LEGACY_TOKEN not in log
    assert response_url not in log
    assert "forged.line" not in log
    assert refused_lines(log) == []


async def test_a_field_value_cannot_start_a_new_log_line(h, log_text):
    """A signed TikTok webhook whose event name carries a line break: the bot logs the name
    (webhook.ignored), on the same line, with the break written as \\n."""
    event = "x.y\n" + FORGED
    body = h.tiktok.webhook_body(event, {"publish_id": PID})
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200
    await h.bot.parts.webhooks.drain()
    log = log_text()
    (line,) = [x for x in log.splitlines() if "webhook.ignored" in x]
    assert "x.y\\n2026-01-01" in line
    assert not any(x.startswith("2026-01-01") for x in log.splitlines())


async def test_a_secret_in_a_value_the_bot_logs_is_scrubbed_on_the_way_out(h, log_text):
    """End to end, through a path that really logs what came from outside: a signed TikTok
    webhook's event name is logged (webhook.ignored). Names carrying the bot's own secrets or
    anything shaped like a token or a response_url reach the log as [redacted] — the
    scrubber on the bot's log output, not just the formatter in isolation, is what is tested."""
    s = h.settings
    carried = {
        "the bot token": s.slack_bot_token,
        "the signing secret": s.slack_signing_secret,
        "the TikTok client secret": s.tiktok_client_secret,
        "the encryption key": s.token_encryption_key,
        "a TikTok access token": "act.Zk3Qv9pLm2Rt8Wx",
        "a response_url": "https://hooks.slack.com/commands/T1/2/SECRETPATH",
        "a bearer header": "Bearer opaque-credential-42",
    }
    for value in carried.values():
        event = f"x.{value}"
        assert len(event) <= 64  # the whole value reaches the log line
        body = h.tiktok.webhook_body(event, {"publish_id": PID})
        headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
        async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
            assert resp.status == 200
    await h.bot.parts.webhooks.drain()
    log = log_text()
    lines = [x for x in log.splitlines() if "webhook.ignored" in x]
    assert len(lines) == len(carried)  # each one was logged...
    for what, value in carried.items():
        secret = value.removeprefix("Bearer ").removeprefix("https://hooks.slack.com/")
        assert secret not in log, f"{what} reached the log"
    assert all("event='x.[redacted]" in x for x in lines), lines  # ...with the value scrubbed


async def test_a_request_aiohttp_cannot_parse_is_one_line_without_the_request(h, log_text):
    """aiohttp logs a traceback quoting the bad request line; the bot logs one line."""
    answer = await send_unparseable_request(h.bot.port)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    log = log_text()
    (line,) = [x for x in log.splitlines() if "http.bad_request" in x]
    assert "status=400" in line
    assert LEGACY_TOKEN not in log and "forged.line" not in log
    assert "Traceback" not in log


def test_line_breaks_in_a_message_or_a_traceback_stay_on_one_line():
    """The formatter itself: a message and a traceback carrying CR/LF give exactly one line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter([]))
    logger = logging.getLogger("tests.one_line")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("title %s", "a\r\n" + FORGED, extra={"reason": "b\n" + FORGED})
        try:
            raise ValueError("x\n" + FORGED)
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert "a\\r\\n2026-01-01" in lines[0]
    assert "Traceback" in lines[1] and "x\\n2026-01-01" in lines[1]


@pytest.mark.parametrize(
    "message",
    [
        f"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001%2F1%2F{LEGACY_TOKEN}",
        f"body: token={LEGACY_TOKEN}&team_id=T0001",
        f"{{'token': '{LEGACY_TOKEN}', 'team_id': 'T0001'}}",
        f'{{"token": "{LEGACY_TOKEN}"}}',
        f"HTTPS://HOOKS.SLACK.COM/actions/{LEGACY_TOKEN}",
        f"Invalid request signature detected (signature: v0=1, timestamp: 1, body: {LEGACY_TOKEN})",
    ],
)
def test_the_scrubber_catches_encoded_urls_token_fields_and_bolts_body_line(message):
    """The last line of defence, should any library log a request after all."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter([]))
    logger = logging.getLogger("tests.scrubber")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.info(message)
    finally:
        logger.removeHandler(handler)
    assert LEGACY_TOKEN not in stream.getvalue()
    assert "team_id" in stream.getvalue() or "team_id" not in message
