"""Helpers for the tests of announced and held uploads: announcing, reading what was posted and
stored, and webhooks (the `hn` fixture, the bot with NOTIFY_TOKEN set, is in conftest)."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import db_execute, db_rows, notify

PID = "v_pub_url~v2.777"
PID2 = "v_pub_url~v2.888"
PID3 = "v_pub_url~v2.999"
HOSTILE = "<!channel> & <https://x|y>"
CLEAN_VIDEO = {
    "format": "mp4",
    "codec": "h264",
    "fps": 30,
    "width": 1080,
    "height": 1920,
    "duration_s": 42.5,
    "size_bytes": 73400320,
}
WARNING_HEAD = "TikTok will likely reject this upload"


def stored(h, publish_id: str = PID) -> dict | None:
    found = db_rows(h, "SELECT * FROM announcements WHERE publish_id = ?", publish_id)
    return found[0] if found else None


def cancel_rows(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel"]


def make_due(h, publish_id: str = PID) -> None:
    db_execute(
        h,
        "UPDATE announcements SET next_poll_at = ? WHERE publish_id = ?",
        time.time() - 1,
        publish_id,
    )


def top_posts(h, channel: str = "C1") -> list:
    return [
        c
        for c in h.slack.calls_to("chat.postMessage")
        if c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]


def thread_posts(h, ts: str | None = None) -> list:
    return [
        c
        for c in h.slack.calls_to("chat.postMessage")
        if c.params.get("thread_ts") and (ts is None or c.params["thread_ts"] == ts)
    ]


def updates(h, ts: str) -> list:
    return [c for c in h.slack.calls_to("chat.update") if c.params.get("ts") == ts]


def all_texts(node, skip: tuple[str, ...] = ()) -> list[str]:
    """Every string under a "text" key anywhere in a message (sections, confirms, fallback)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in skip:
                continue
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(all_texts(value, skip))
    elif isinstance(node, list):
        for item in node:
            found.extend(all_texts(item, skip))
    return found


def assert_escaped(message: dict, skip: tuple[str, ...] = ()) -> None:
    for text in all_texts(message, skip):
        assert "<!channel>" not in text, text
        assert "<https://x|y>" not in text, text
        assert "& " not in text.replace("&amp; ", ""), text


def warning_lines(message: dict) -> list[str]:
    for text in all_texts(message.get("blocks", [])):
        if WARNING_HEAD in text:
            return [line for line in text.splitlines() if line.startswith("\u2022")]
    return []


def accessory_buttons(message: dict) -> list[dict]:
    return [
        b["accessory"]
        for b in message.get("blocks", [])
        if isinstance(b.get("accessory"), dict) and b["accessory"].get("type") == "button"
    ]


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def announce(h, publish_id: str = PID, channel: str = "C1", **fields) -> dict:
    status, body = await notify(h, {"publish_id": publish_id, "channel": channel, **fields})
    assert status == 201, body
    return body


async def webhook(h, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["TikTok-Signature"] = signature
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        status = resp.status
    await h.bot.parts.webhooks.drain()
    return status


async def signed_webhook(h, event: str, content: dict, user_openid: str = "open-1") -> int:
    body = h.tiktok.webhook_body(event, content, user_openid)
    return await webhook(h, body, h.tiktok.sign_webhook(body))


async def settle(h) -> None:
    """Wait for in-flight cancels, their listener posts and webhook work (real shutdown path)."""
    await h.bot.parts.cancels.drain()
    await h.bot.parts.webhooks.drain()


async def overlapping(h, first, second, endpoint: str = "cancel"):
    """Run `first` (a coroutine); while TikTok holds its request to `endpoint`, run `second`
    to its answer; then let TikTok answer. Two requests that truly overlap, however loaded
    the machine (a fixed delay at TikTok did not). Returns both answers, first's first."""
    hold = h.tiktok.hold(endpoint)
    task = asyncio.ensure_future(first)
    try:
        await hold.wait_arrived(timeout=10)
        second_answer = await second
    finally:
        hold.release()
    return await task, second_answer
