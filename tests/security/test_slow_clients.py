"""The server holds under slow and big clients: raw sockets on loopback against the bot.

A client trickling its headers or its body is disconnected within a few seconds (the budgets
are `Settings.header_timeout` / `body_timeout`, 1 s here); a body over a route's limit gets
413 before any authentication, on every route, by Content-Length or while it streams in.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from tests.conftest import NOTIFY

BUDGET_S = 1.0
# Disconnected within the budget plus aiohttp's 1 s timer granularity and a margin.
CLOSED_WITHIN_S = 4.0
LIMITS = {"/slack/events": 1024 * 1024, "/notifications": 64 * 1024, "/tiktok/webhook": 64 * 1024}


@pytest.fixture
async def hs(h):
    await h.restart(header_timeout=BUDGET_S, body_timeout=BUDGET_S, notify_token=NOTIFY)
    return h


async def connect(h):
    return await asyncio.open_connection("127.0.0.1", h.bot.port)


async def trickle_until_closed(reader, writer, pieces, every_s=0.2, limit_s=25.0) -> tuple:
    """Send one piece every `every_s` until the server answers or closes (then stop
    sending, as a client would); (seconds until closed, what the server answered)."""
    started = time.monotonic()
    answer = b""
    first = asyncio.ensure_future(reader.read(65536))
    try:
        for piece in pieces:
            if first.done() or time.monotonic() - started > limit_s:
                break
            try:
                writer.write(piece)
                await writer.drain()
            except (ConnectionError, OSError):
                break
            await asyncio.wait({first}, timeout=every_s)
        answer = await asyncio.wait_for(first, timeout=limit_s)
        while chunk := await asyncio.wait_for(reader.read(65536), timeout=limit_s):
            answer += chunk
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
    return time.monotonic() - started, answer


def then_forever(first: bytes, piece: bytes):
    """`first`, then `piece` again and again (the sender stops when the server closes)."""
    return itertools.chain([first], itertools.repeat(piece))


@pytest.mark.parametrize("path", ["/slack/events", "/notifications", "/tiktok/webhook"])
async def test_a_client_trickling_its_headers_is_disconnected(hs, path):
    reader, writer = await connect(hs)
    start = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    pieces = then_forever(start, b"X-Slow: a\r\n")
    seconds, answer = await trickle_until_closed(reader, writer, pieces)
    assert seconds < CLOSED_WITHIN_S, seconds  # was still connected after 25 s
    assert b"200" not in answer.split(b"\r\n", 1)[0]


async def test_a_connection_that_sends_nothing_is_closed(hs):
    reader, writer = await connect(hs)
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""
    assert time.monotonic() - started < CLOSED_WITHIN_S
    writer.close()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/notifications", f"Authorization: Bearer {NOTIFY}\r\nContent-Type: application/json"),
        ("/tiktok/webhook", "TikTok-Signature: t=1,s=00\r\nContent-Type: application/json"),
        ("/slack/events", "Content-Type: application/x-www-form-urlencoded"),
    ],
)
async def test_a_client_trickling_its_body_gets_408_and_is_disconnected(hs, path, headers):
    reader, writer = await connect(hs)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\nContent-Length: 500\r\n\r\n"
    seconds, answer = await trickle_until_closed(reader, writer, then_forever(head.encode(), b"{"))
    assert seconds < CLOSED_WITHIN_S, seconds
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"did not arrive within 1 seconds" in answer
    assert hs.slack.calls_to("chat.postMessage") == []


async def send_raw(h, data: bytes) -> bytes:
    reader, writer = await connect(h)
    try:
        writer.write(data)
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    except (ConnectionError, OSError):
        return b""
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/slack/events", "/notifications", "/tiktok/webhook"])
async def test_a_declared_body_over_the_limit_is_413_before_authentication(hs, path):
    """No credentials at all, and not one byte of the body sent: the size alone refuses it."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {LIMITS[path] + 1}\r\n\r\n"
    answer = await send_raw(hs, head.encode())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert f"the body is larger than {LIMITS[path]} bytes".encode() in answer


@pytest.mark.parametrize("path", ["/slack/events", "/notifications", "/tiktok/webhook"])
async def test_a_chunked_body_over_the_limit_is_413_before_authentication(hs, path):
    size = LIMITS[path] + 10
    chunk = b"a" * size
    data = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        f"{size:x}\r\n".encode()
        + chunk
        + b"\r\n0\r\n\r\n"
    )
    answer = await send_raw(hs, data)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


async def test_bodies_within_the_limit_still_reach_the_route_and_the_bot_keeps_serving(hs):
    """After all that, ordinary requests work: an unsigned Slack request is 401 (the route
    ran), and health answers."""
    answer = await send_raw(
        hs, b"POST /slack/events HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab"
    )
    assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
    async with hs.session.get(hs.url + "/healthz") as resp:
        assert resp.status == 200


def test_the_budgets_are_settings_with_defaults_of_a_few_seconds():
    from bot.settings import Settings

    fields = Settings.__dataclass_fields__
    assert 1 <= fields["header_timeout"].default <= 15
    assert 1 <= fields["body_timeout"].default <= 15
