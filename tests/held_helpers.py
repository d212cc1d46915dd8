"""Helpers for the tests of held uploads: a held body, submitting it to `POST /uploads`, its row,
the bot set up with a team account granted to BOB, and waiting for the held scheduler."""

from __future__ import annotations

import asyncio
import json
import time

from slack_sdk.models.blocks import Block

from tests.conftest import ADMIN, NOTIFY, UPLOAD, db_rows, text_of

BOB = "UBOB"  # granted the team account
EVE = "UEVE"  # not granted, not an admin
SOURCE = "https://cdn.example.com/teaser.mp4"


def body(key="run-1", hold_s=60, **post):
    return {
        "upload_key": key,
        "channel": "C1",
        "account": "brand",
        "source_url": SOURCE,
        "hold_s": hold_s,
        "post": {"title": "Spring teaser", "privacy_level": "PUBLIC_TO_EVERYONE", **post},
        "video": {"format": "mp4", "codec": "h264", "duration_s": 42.5},
    }


async def submit(h, payload, token=UPLOAD) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with h.session.post(h.url + "/uploads", json=payload, headers=headers) as resp:
        return resp.status, await resp.json()


def row(h, key="run-1") -> dict:
    (found,) = db_rows(h, "SELECT * FROM held_uploads WHERE upload_key = ?", key)
    return found


async def until(check, timeout=8.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def msg(call) -> dict:
    blocks = call.params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {"text": call.params.get("text", ""), "blocks": blocks}


def assert_valid_blocks(message: dict) -> None:
    for block in message.get("blocks", []):
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


async def held_harness(h):
    """The bot with UPLOAD_TOKEN (and NOTIFY_TOKEN), ADMIN, and the team account "brand"
    granted to BOB."""
    await h.restart(
        notify_token=NOTIFY,
        upload_token=UPLOAD,
        admin_users=frozenset({ADMIN}),
        held_poll_interval=0.2,
    )
    await h.link_team("brand", admin=ADMIN, open_id="open-brand")
    h.tiktok.creator_for("open-brand").nickname = "Brand Social TT"
    answer = await h.command(f"team grant brand <@{BOB}>", user_id=ADMIN)
    assert "brand" in text_of(answer)
    return h


def inits(h):
    return h.tiktok.calls_to("init")


async def next_scheduler_pass(h) -> None:
    """Until the held scheduler has made a whole pass begun after now: a start it would make
    (a retry, a second init) has been made by then, so its absence is proven."""
    await h.bot.parts.held_scheduler.next_pass()
