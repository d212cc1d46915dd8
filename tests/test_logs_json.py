"""`LOG_FORMAT=json`: one JSON object a line (`time` in UTC, `level`, `logger`, `event`, each
extra its own key, `exc` for a traceback), scrubbed exactly as the text lines are. The running
bot (in this process, and `python -m bot` as an operator starts it) is made to log requests
and values carrying secrets; every line must parse, carry the fields, and hold no secret."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
import time

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.logs import JsonFormatter
from bot.settings import SettingsError, load_settings
from sandbox.fakes.slack_requests import sign, slash_command_body
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import text_of
from tests.fuzz.counting import count_case
from tests.log_helpers import (
    FORGED,
    LEGACY_TOKEN,
    PID,
    assert_nothing_of_the_request,
    captured_logging,
    hostile_body,
    json_entries,
    named,
    post,
    send_unparseable_request,
)
from tests.secrets_helpers import TOKEN_SHAPES, every_secret, leaks, whole_session

TOKENS = TOKEN_SHAPES  # the shapes the text tests use (tests/test_secrets.py)


@pytest.fixture
def json_log(h):
    """The bot's logging at DEBUG with LOG_FORMAT=json; call it for the entries so far."""
    with captured_logging(h.settings.secrets(), "json") as stream:
        yield lambda: (stream.getvalue(), json_entries(stream.getvalue()))


def formatted(secrets: list[str], msg: str, *args, exc_info=None, **extra) -> dict:
    """One record through the JSON formatter: exactly one line, parsed."""
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    line = JsonFormatter(secrets).format(record)
    (entry,) = json_entries(line + "\n")
    return entry


# --- the running bot --------------------------------------------------------------------


async def log_a_marker(h) -> None:
    """A signed TikTok webhook the bot ignores, logged as `webhook.ignored` x.marker."""
    body = h.tiktok.webhook_body("x.marker", {"publish_id": PID})
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200
    await h.bot.parts.webhooks.drain()


async def test_a_debug_session_is_json_lines_without_a_secret(h, json_log):
    await whole_session(h)
    await h.stop()  # drain background posts and close the database
    raw, entries = json_log()
    assert leaks(raw, every_secret(h)) == []
    assert leaks(json.dumps(entries, ensure_ascii=False), every_secret(h)) == []
    (first, second) = named(entries, "cancel.finished")
    assert first["logger"] == "bot.uploads.cancel" and first["level"] == "INFO"
    assert first["code"] == "ok" and second["code"] == "ok"
    assert isinstance(first["http_status"], int)  # numbers stay numbers


async def test_a_wrong_signature_with_a_body_is_one_entry_without_it(h, json_log):
    body = hostile_body()
    assert await post(h, body, sign("not-the-signing-secret", body)) == 401
    raw, entries = json_log()
    (entry,) = named(entries, "slack.request_refused")
    assert entry["reason"] == "bad_signature"
    assert entry["bytes"] == len(body.encode())
    assert_nothing_of_the_request(raw)
    assert_nothing_of_the_request(json.dumps(entries, ensure_ascii=False))


async def test_a_signed_command_logs_no_token_response_url_or_text(h, json_log):
    response_url = h.slack.new_response_url()
    body = slash_command_body(f"status {PID} why\n{FORGED}", response_url=response_url)
    body = body.replace("deprecated-verification-token", LEGACY_TOKEN)
    assert LEGACY_TOKEN in body
    status, _ = await h.post_slack(body)
    assert status == 200
    (answer,) = await h.slack.wait_for_responses(response_url, 1, timeout=10)
    assert text_of(answer)
    await log_a_marker(h)  # a later entry: the capture saw everything before it
    raw, entries = json_log()
    assert [e["extra_event"] for e in named(entries, "webhook.ignored")] == ["x.marker"]
    decoded = json.dumps(entries, ensure_ascii=False)
    for text in (raw, decoded):
        assert LEGACY_TOKEN not in text
        assert response_url not in text
        assert "forged.line" not in text
    assert named(entries, "slack.request_refused") == []


async def test_secrets_in_a_value_the_bot_logs_are_scrubbed(h, json_log):
    """A signed TikTok webhook's event name is logged (webhook.ignored, its `event` extra
    written `extra_event` beside the fixed `event`): the bot's secrets and every token shape
    in it reach the JSON as [redacted]."""
    s = h.settings
    carried = [
        s.slack_bot_token,
        s.slack_signing_secret,
        s.tiktok_client_secret,
        s.token_encryption_key,
        "Bearer opaque-credential-42",
        *[t for t in TOKENS if len(t) <= 62],
    ]
    for value in carried:
        body = h.tiktok.webhook_body(f"x.{value}", {"publish_id": PID})
        headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
        async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
            assert resp.status == 200
    await h.bot.parts.webhooks.drain()
    raw, entries = json_log()
    ignored = named(entries, "webhook.ignored")
    assert len(ignored) == len(carried)  # each one was logged...
    assert all("[redacted]" in e["extra_event"] for e in ignored), ignored
    decoded = json.dumps(entries, ensure_ascii=False)
    for value in carried:  # ...with the value scrubbed
        secret = value.removeprefix("Bearer ").removeprefix("https://hooks.slack.com/")
        assert secret not in raw and secret not in decoded, value


async def test_a_line_break_in_a_value_stays_inside_its_entry(h, json_log):
    event = "x.y\n" + FORGED
    body = h.tiktok.webhook_body(event, {"publish_id": PID})
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200
    await h.bot.parts.webhooks.drain()
    raw, entries = json_log()  # json_entries: no line broken
    (entry,) = named(entries, "webhook.ignored")
    assert entry["extra_event"] == event
    assert not any(line.startswith("2026-01-01") for line in raw.split("\n"))


async def test_a_request_aiohttp_cannot_parse_is_one_entry_without_the_request(h, json_log):
    answer = await send_unparseable_request(h.bot.port)
    assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400"))
    raw, entries = json_log()
    (entry,) = named(entries, "http.bad_request")
    assert entry["level"] == "INFO" and entry["status"] == 400
    assert "exc" not in entry
    assert LEGACY_TOKEN not in raw and "forged.line" not in raw
    assert "Traceback" not in raw


# --- python -m bot with LOG_FORMAT=json ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_python_m_bot_serves_with_json_logs(h, tmp_path):
    """The real entry point reads LOG_FORMAT: every stderr line of a served session (DEBUG,
    a refused hostile request, a signed command, SIGTERM) is a JSON entry without a secret."""
    port = free_port()
    env = env_for(
        h.settings,
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_PATH=str(tmp_path / "own.sqlite3"),
    )
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 20
            while True:
                assert proc.returncode is None, await proc.stderr.read()
                assert time.monotonic() < deadline, "the bot never answered /healthz"
                try:
                    async with session.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            body = hostile_body()
            headers = sign("not-the-signing-secret", body)
            async with session.post(url + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 401
            response_url = h.slack.new_response_url()
            command = slash_command_body("help", response_url=response_url)
            headers = sign(h.settings.slack_signing_secret, command)
            async with session.post(url + "/slack/events", data=command, headers=headers) as r:
                assert r.status == 200
            await h.slack.wait_for_responses(response_url, 1, timeout=10)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err
    log = err.decode()
    entries = json_entries(log)
    (refused,) = named(entries, "slack.request_refused")
    assert refused["reason"] == "bad_signature"
    assert_nothing_of_the_request(log)
    assert leaks(log + out.decode(), every_secret(h)) == []
    assert response_url not in log


async def test_a_start_up_failure_is_one_json_entry(h, tmp_path):
    """`python -m bot` with its database unreachable: one CRITICAL entry, the traceback in
    `exc`, the database password nowhere."""
    password = "Zq7wPl4Xc9Vb2"
    env = env_for(
        h.settings,
        LOG_FORMAT="json",
        DATABASE_URL=f"postgresql://bot:{password}@127.0.0.1:9/tiktok",
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    code, out, err = await run_bot_cli(env=env, cwd=tmp_path)
    assert code == 1 and out == ""
    (entry,) = json_entries(err)
    assert entry["level"] == "CRITICAL" and entry["logger"] == "bot"
    assert entry["event"] == "bot.stopped_on_error"
    assert entry["error"] == "OperationalError" and "Connection refused" in entry["detail"]
    assert entry["exc"].startswith("Traceback (most recent call last):\n")
    assert password not in err


# --- the formatter itself ---------------------------------------------------------------------


@pytest.mark.parametrize("token", TOKENS)
def test_every_token_shape_is_redacted_in_message_and_extras(token):
    entry = formatted([], "got %s from TikTok", token, detail=f"saw {token}", seen=[token])
    for value in (entry["event"], entry["detail"], entry["seen"]):
        assert token not in value and "[redacted]" in value
    assert entry["event"].endswith(" from TikTok")


def test_configured_secrets_bearer_headers_and_numbers_are_scrubbed():
    secret = "my-signing-secret-42"
    entry = formatted(
        [secret, "424242424242"],
        f"verifying with {secret} and %s",
        secret,
        detail=secret,
        headers={"Authorization": "Bearer act.abcdef123"},
        number=424242424242,
        port=3000,
    )
    line = json.dumps(entry)
    assert secret not in line and "act.abcdef123" not in line and "424242424242" not in line
    assert entry["event"] == "verifying with [redacted] and [redacted]"
    assert entry["detail"] == "[redacted]" and entry["number"] == "[redacted]"
    assert entry["port"] == 3000


@pytest.mark.parametrize(
    "message",
    [
        f"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001%2F1%2F{LEGACY_TOKEN}",
        f"body: token={LEGACY_TOKEN}&team_id=T0001",
        f"{{'token': '{LEGACY_TOKEN}', 'team_id': 'T0001'}}",
        f'{{"token": "{LEGACY_TOKEN}"}}',
        f"HTTPS://HOOKS.SLACK.COM/actions/{LEGACY_TOKEN}",
        "Failed to fetch oauth.v2.access result with code: 1234.5678.abcdef - error: x",
    ],
)
def test_encoded_urls_token_fields_and_oauth_codes_are_scrubbed(message):
    entry = formatted([], message)
    assert LEGACY_TOKEN not in json.dumps(entry) and "1234.5678.abcdef" not in entry["event"]


def test_bolts_body_line_is_cut_before_the_body():
    entry = formatted(
        [], f"Invalid request signature detected (signature: v0=1, timestamp: 1, body: {FORGED})"
    )
    assert entry["event"] == "Invalid request signature detected (request body not logged)"


def test_a_traceback_is_one_scrubbed_exc_string():
    secret = "traceback-secret-77"
    try:
        raise ValueError(f"bad token {secret} act.inside.exception\n{FORGED}")
    except ValueError:
        entry = formatted([secret], "failed", exc_info=sys.exc_info())
    assert entry["event"] == "failed"
    assert entry["exc"].startswith("Traceback (most recent call last):\n")
    assert "ValueError: bad token [redacted] [redacted]\n2026-01-01" in entry["exc"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_value_of_a_token_named_extra_or_repr_field_goes(log_format):
    """`extra={"token": …}` and a repr such as `Grant(refresh_token='…')`: an opaque value
    (no token shape) is redacted by its name, in both formats."""
    with captured_logging([], log_format, level="INFO") as stream:
        logging.getLogger("bot.test").info(
            "grant %s",
            "Grant(refresh_token='opaque-value-1', scope='video.list')",
            extra={"token": "opaque-value-2", "response_url": None, "token_count": 3},
        )
    log = stream.getvalue()
    assert "opaque-value" not in log
    assert "video.list" in log
    assert "token_count=3" in log or log_format == "json"
    if log_format == "json":
        (entry,) = json_entries(log)
        assert entry["token"] == "[redacted]" and entry["response_url"] == "[redacted]"
        assert entry["token_count"] == 3


def test_an_extra_named_like_a_fixed_field_keeps_both():
    entry = formatted([], "webhook.ignored", event="x.y", time="t", extra_level="l", level="v")
    assert entry["event"] == "webhook.ignored" and entry["extra_event"] == "x.y"
    assert entry["extra_time"] == "t" and entry["level"] == "INFO"
    assert entry["extra_level"] == "l" and entry["extra_extra_level"] == "v"


def test_the_text_format_is_unchanged_by_default():
    with captured_logging([], level="INFO") as stream:
        logging.getLogger("bot.test").info("cancel.finished", extra={"code": "ok"})
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" INFO bot.test cancel.finished code='ok'")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.text(max_size=40),
    token=st.builds(
        lambda prefix, rest: prefix + rest,
        st.sampled_from(["xoxb-", "xoxe.xoxp-", "xoxe-1-", "xapp-1-", "act.", "rft.", "tcp_"]),
        st.text(alphabet="abcXYZ0189_", min_size=8, max_size=30),
    ),
    after=st.text(max_size=40),
    extras=st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True),
        st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans()),
        max_size=4,
    ),
)
def test_fuzz_any_text_is_one_parseable_line_without_the_token(before, token, after, extras):
    count_case()
    extras = {k: v for k, v in extras.items() if k not in logging.makeLogRecord({}).__dict__}
    extras = {k: v for k, v in extras.items() if k not in ("message", "asctime")}
    message = f"{before}{token}{after}"
    record = logging.LogRecord("bot.fuzz", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extras, carried=f"{after}{token}{before}")
    line = JsonFormatter([]).format(record)
    (entry,) = json_entries(line + "\n")
    assert token not in line and token not in json.dumps(entry, ensure_ascii=False)
    assert "[redacted]" in entry["event"] and "[redacted]" in entry["carried"]
    for key in extras:
        assert key in entry or f"extra_{key}" in entry


# --- the setting -------------------------------------------------------------------------------


def required(**values: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "SLACK_BOT_TOKEN": "xoxb-logs-json-0001",
        "SLACK_SIGNING_SECRET": "logs-json-signing-0002",
        "TIKTOK_CLIENT_KEY": "ck_logs",
        "TIKTOK_CLIENT_SECRET": "logs-json-client-0003",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        **values,
    }


@pytest.mark.parametrize("value, expected", [("", "text"), ("text", "text"), ("JSON", "json")])
def test_log_format_is_read(value, expected):
    assert load_settings(required(LOG_FORMAT=value)).log_format == expected


@pytest.mark.parametrize("value", ["yaml", "jsonl", "logfmt", " text json"])
def test_any_other_log_format_is_a_start_up_error_naming_both(value):
    with pytest.raises(SettingsError) as refused:
        load_settings(required(LOG_FORMAT=value))
    assert refused.value.problems == ["LOG_FORMAT must be text or json"]
