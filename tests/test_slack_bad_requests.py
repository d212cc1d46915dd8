"""Requests to `POST /slack/events` that Bolt cannot read get a 4xx, never a 500: a body that
is not UTF-8, a timestamp that is not a number, a payload that is not a JSON object. Only the
error's type is logged, never the body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import pytest

BAD_TIMESTAMPS = ["abc", "1e9", "", " 1", "１２３", "9" * 40]


def signed_headers(secret: str, body: bytes, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


async def post(h, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
async def test_a_timestamp_that_is_not_a_number_gets_401(h, timestamp):
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + "0" * 64,
        "Content-Type": "application/x-www-form-urlencoded",
    }

    status, text = await post(h, b"command=%2Ftiktok-cancel&text=list", headers)

    assert (status, text) == (401, '{"error": "invalid request"}')
    assert h.slack.responses == {}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"command=%2Ftiktok-cancel&text=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b"payload=not-json", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        (b"[1, 2]", "application/json"),
        (b'{"type": "event_callback"}\xff', "application/json"),
    ],
    ids=["form-not-utf8", "bytes", "payload-not-json", "payload-a-list", "json-list", "json-bad"],
)
async def test_a_signed_body_bolt_cannot_read_gets_400_and_only_its_error_type_is_logged(
    h, caplog, body, content_type
):
    caplog.set_level(logging.DEBUG)
    headers = signed_headers(h.settings.slack_signing_secret, body, content_type)

    status, text = await post(h, body, headers)

    assert (status, text) == (400, '{"error": "invalid request"}')
    assert "Traceback" not in caplog.text
    assert "not-json" not in caplog.text and "\\xff" not in caplog.text
    events = ("slack.request_unreadable", "slack.request_refused")  # after or before Bolt
    refused = [r for r in caplog.records if r.getMessage() in events]
    assert len(refused) == 1
    answer = await h.command("help")  # and the bot keeps serving
    assert answer["blocks"]
