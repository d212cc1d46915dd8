"""`/tiktok-cancel list`: the announced uploads still running."""

from __future__ import annotations

import time

from tests.conftest import buttons, db_execute, text_of
from tests.upload_helpers import (
    PID,
    PID2,
    PID3,
    accessory_buttons,
    announce,
    settle,
    signed_webhook,
)

# --- /tiktok-cancel list ---------------------------------------------------------------------


async def test_list_shows_only_unfinished_announced_uploads_with_a_cancel_button(hn):
    h = hn
    await h.link()
    for pid in (PID, PID2, PID3):
        h.tiktok.add_upload(pid)
    await announce(h, publish_id=PID, title="Still going")
    await announce(h, publish_id=PID2, title="Went live")
    await announce(h, publish_id=PID3, title="Cancelled one")
    await signed_webhook(h, "post.publish.complete", {"publish_id": PID2})
    await h.click("cancel_upload", PID3)
    await settle(h)
    cancelled = {"publish_id": PID3, "reason": "publish_cancelled"}
    await signed_webhook(h, "post.publish.failed", cancelled)
    answer = await h.command("list")
    text = text_of(answer)
    assert "Still going" in text
    assert "Went live" not in text and "Cancelled one" not in text
    assert "announced just now" in text  # not "0 min ago"
    assert "0 min ago" not in text
    assert "Waiting for TikTok" in text
    (button,) = accessory_buttons(answer) + buttons(answer)
    assert (button["action_id"], button["value"]) == ("cancel_upload", PID)


async def test_list_with_nothing_running_says_so(hn):
    h = hn
    answer = await h.command("list")
    assert "No announced uploads are still running" in text_of(answer)
    assert accessory_buttons(answer) + buttons(answer) == []


async def test_list_shows_the_current_state_of_each_upload(hn):
    h = hn
    await announce(h, publish_id=PID, title="Downloading one")
    db_execute(
        h,
        "UPDATE announcements SET status = 'PROCESSING_DOWNLOAD', created_at = ?",
        time.time() - 600,
    )
    text = text_of(await h.command("list"))
    assert "still downloading" in text
    assert "10 min ago" in text


async def test_a_list_of_a_new_upload_says_just_now(hn):
    await announce(hn, title="Fresh")
    text = text_of(await hn.command("list"))
    assert "announced just now" in text
    assert "0 min ago" not in text
