"""POST /notifications with bad input: a clear 4xx naming the field, never a 5xx; nothing is
posted to Slack and nothing stored. Also: the bearer scheme is case-insensitive, and a
failure is only called Slack's when the network to Slack failed."""

from __future__ import annotations

import asyncio
import json

import pytest

from sandbox.fakes.server import Reply
from tests.conftest import NOTIFY, db_rows, notify

PID = "v_pub_url~v2.5500001"


def nothing_happened(h) -> None:
    assert h.slack.calls_to("chat.postMessage") == []
    assert db_rows(h, "SELECT * FROM announcements") == []


async def post_raw(h, data: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    async with h.session.post(h.url + "/notifications", data=data, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize(
    ("raw_value", "field"),
    [
        ("1e400", "fps"),  # json: inf
        ("-1e400", "duration_s"),
        ("-1", "width"),
        ("-0.5", "duration_s"),
        ("10000000000000001", "size_bytes"),
    ],
)
async def test_video_numbers_out_of_range_are_400(hn, raw_value, field):
    raw = (
        f'{{"publish_id": "{PID}", "channel": "C1", "video": {{"{field}": {raw_value}}}}}'
    ).encode()
    status, body = await post_raw(hn, raw, {"Authorization": f"Bearer {NOTIFY}"})
    assert status == 400
    assert body == {"error": f"video.{field} must be a number from 0 to 1e+15"}
    nothing_happened(hn)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_not_json_and_get_400(hn, constant):
    """Python's json reads these tokens by default; no JSON sender writes them (RFC 8259)."""
    raw = f'{{"publish_id": "{PID}", "channel": "C1", "video": {{"fps": {constant}}}}}'.encode()
    status, body = await post_raw(hn, raw, {"Authorization": f"Bearer {NOTIFY}"})
    assert status == 400
    assert body == {"error": f"the body is not valid JSON: {constant} is not a JSON number"}
    nothing_happened(hn)


async def test_video_numbers_in_range_are_kept(hn):
    video = {"fps": 29.97, "width": 1080, "height": 1920, "size_bytes": 0, "duration_s": 59.5}
    status, _ = await notify(hn, {"publish_id": PID, "channel": "C1", "video": video})
    assert status == 201
    (row,) = db_rows(hn, "SELECT video FROM announcements")
    assert json.loads(row["video"]) == video


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
async def test_the_bearer_scheme_is_case_insensitive(hn, scheme):
    body = json.dumps({"publish_id": PID, "channel": "C1"}).encode()
    status, answer = await post_raw(hn, body, {"Authorization": f"{scheme} {NOTIFY}"})
    assert status == 201, answer


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {NOTIFY}", NOTIFY, f"Bearer {NOTIFY}x", "Bearer", f"Bearer{NOTIFY}", ""],
)
async def test_other_schemes_and_wrong_tokens_are_401(hn, authorization):
    body = json.dumps({"publish_id": PID, "channel": "C1"}).encode()
    status, answer = await post_raw(hn, body, {"Authorization": authorization})
    assert status == 401
    assert answer == {"error": "missing or wrong bearer token"}
    nothing_happened(hn)


@pytest.mark.parametrize(
    "url", ["http://cdn.example.com/v.mp4", "ftp://cdn.example.com/v.mp4", "cdn.example.com"]
)
async def test_source_url_must_be_https(hn, url):
    status, body = await notify(hn, {"publish_id": PID, "channel": "C1", "source_url": url})
    assert status == 400
    assert body == {"error": "source_url must start with https:// (TikTok pulls HTTPS only)"}
    nothing_happened(hn)


async def test_an_https_source_url_is_accepted(hn):
    url = "https://cdn.example.com/v.mp4"
    status, _ = await notify(hn, {"publish_id": PID, "channel": "C1", "source_url": url})
    assert status == 201
    assert db_rows(hn, "SELECT source_url FROM announcements") == [{"source_url": url}]


async def test_a_body_that_is_not_utf8_is_400(hn):
    raw = b'{"publish_id": "' + PID.encode() + b'", "channel": "C1", "title": "\xff\xfe"}'
    status, body = await post_raw(hn, raw, {"Authorization": f"Bearer {NOTIFY}"})
    assert status == 400
    assert body == {"error": "the body is not valid JSON (UTF-8)"}
    nothing_happened(hn)


async def raw_request(h, head: bytes, body: bytes = b"") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", h.bot.port)
    writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /healthz",
        b"GET /tiktok/oauth/callback?state=a&code=b",
        b"POST /notifications",
        b"POST /tiktok/webhook",
        b"POST /slack/events",
    ],
)
async def test_headers_that_are_not_utf8_never_give_a_5xx(hn, request_line):
    head = (
        request_line + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer \xff\xfe" + NOTIFY.encode() + b"\r\n"
        b"TikTok-Signature: t=1,s=\xff\xfe\r\n"
        b"X-Slack-Request-Timestamp: 1\xff\r\nX-Slack-Signature: v0=\xff\xfe\r\n"
        b"X-Other: \xc3\x28\r\n"
    )
    answer = await raw_request(hn, head, b'{"publish_id": "x"}')
    assert status_of(answer) < 500, answer[:200]
    assert b"Traceback" not in answer
    nothing_happened(hn)


async def test_a_network_failure_to_slack_is_502_slack_could_not_be_reached(hn):
    """The connection to Slack breaks mid-answer on every try (the first and 2 retries)."""
    hn.slack.script("chat.postMessage", *[Reply(reset=True, json={"ok": True})] * 3)
    status, body = await notify(hn, {"publish_id": PID, "channel": "C1"})
    assert status == 502
    assert body == {"error": "Slack could not be reached. Try again in a minute."}
    assert db_rows(hn, "SELECT * FROM announcements") == []


async def test_a_189_character_title_full_of_ampersands_is_announced(hn):
    title = "&" * 189
    status, body = await notify(hn, {"publish_id": PID, "channel": "C1", "title": title})
    assert status == 201, body
    (post,) = hn.slack.calls_to("chat.postMessage")
    from slack_sdk.models.blocks import Block

    for block in post.params["blocks"]:
        Block.parse(block).validate_json()


async def test_a_signed_webhook_body_that_is_not_utf8_is_400(hn):
    body = b'{"event": "post.publish.failed", "content": "\xff\xfe"}'
    headers = {"TikTok-Signature": hn.tiktok.sign_webhook(body)}
    async with hn.session.post(hn.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 400
        assert await resp.json() == {"ok": False}
