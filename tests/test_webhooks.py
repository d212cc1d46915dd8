"""TikTok webhooks: signatures, redeliveries, and the announcement following them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import pytest

from tests.conftest import buttons, db_execute, db_rows, text_of
from tests.upload_helpers import (
    PID,
    PID2,
    announce,
    settle,
    signed_webhook,
    stored,
    thread_posts,
    updates,
    wait_until,
    webhook,
)

# --- webhooks --------------------------------------------------------------------------------


async def test_failed_webhook_updates_the_announcement_and_explains_the_reason(hn):
    h = hn
    first = await announce(h, title="Spring teaser")
    content = {"publish_id": PID, "reason": "frame_rate_check_failed", "publish_type": "DIRECT"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    await wait_until(lambda: thread_posts(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert buttons(update) == []
    assert "failed" in text_of(update).lower()
    (reply,) = thread_posts(h, first["ts"])
    text = text_of(reply.params)
    assert "frame rate" in text.lower() and "23 and 60" in text
    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == (
        "FAILED",
        "frame_rate_check_failed",
        1,
    )
    assert row["next_poll_at"] is None


@pytest.mark.parametrize(
    ("event", "content", "status", "words"),
    [
        ("post.publish.complete", {}, "PUBLISH_COMPLETE", "posted"),
        (
            "post.publish.inbox_delivered",
            {"publish_type": "INBOX_SHARE"},
            "SEND_TO_USER_INBOX",
            "inbox",
        ),
        (
            "post.publish.publicly_available",
            {"post_id": 7312345678901234567},
            "PUBLISH_COMPLETE",
            "posted",
        ),
    ],
)
async def test_final_webhook_events_remove_the_button_and_say_so(hn, event, content, status, words):
    h = hn
    first = await announce(h)
    assert await signed_webhook(h, event, {"publish_id": PID, **content}) == 200
    await wait_until(lambda: thread_posts(h, first["ts"]))
    assert buttons(updates(h, first["ts"])[-1].params) == []
    assert words in text_of(thread_posts(h, first["ts"])[0].params).lower()
    row = stored(h)
    assert (row["status"], row["final"]) == (status, 1)
    if "post_id" in content:
        assert str(content["post_id"]) in row["post_ids"]


async def test_complete_then_publicly_available_threads_the_final_state_once(hn):
    h = hn
    first = await announce(h)
    await signed_webhook(h, "post.publish.complete", {"publish_id": PID})
    await signed_webhook(h, "post.publish.publicly_available", {"publish_id": PID, "post_id": 5})
    assert len(thread_posts(h, first["ts"])) == 1
    assert json.loads(stored(h)["post_ids"]) == ["5"]


async def test_webhook_with_a_bad_signature_is_401_and_changes_nothing(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    t = int(time.time())
    forged = f"t={t},s=" + hmac.new(b"wrong", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    calls = len(h.slack.calls)
    assert await webhook(h, body, forged) == 401
    assert await webhook(h, body + b" ", h.tiktok.sign_webhook(body)) == 401
    assert await webhook(h, body, "garbage") == 401
    assert len(h.slack.calls) == calls
    assert stored(h)["status"] == ""


async def test_webhook_with_a_non_ascii_signature_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    header = f"t={int(time.time())},s=\u00e9\u00e9"
    assert await webhook(h, body, header) == 401
    assert stored(h)["final"] == 0


async def test_slack_5xx_on_the_update_still_threads_the_failure_reason(hn):
    h = hn
    first = await announce(h)
    h.slack.fail_http("chat.update", status=502)  # non-JSON, as a proxy answers
    content = {"publish_id": PID, "reason": "picture_size_check_failed"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    assert stored(h)["final"] == 1
    posts = thread_posts(h, first["ts"])
    assert posts, "the failure reason was never explained in the thread"
    assert "picture size" in text_of(posts[0].params)


async def test_webhook_without_signature_header_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    assert await webhook(h, body, None) == 401
    assert stored(h)["final"] == 0


async def test_webhook_with_a_stale_timestamp_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    stale = h.tiktok.sign_webhook(body, t=int(time.time()) - 360)
    assert await webhook(h, body, stale) == 401
    assert stored(h)["final"] == 0
    fresh = h.tiktok.sign_webhook(body, t=int(time.time()) - 60)
    assert await webhook(h, body, fresh) == 200
    assert stored(h)["final"] == 1


async def test_unknown_webhook_event_is_200_and_makes_no_slack_call(hn):
    h = hn
    await announce(h)
    calls = len(h.slack.calls)
    assert await signed_webhook(h, "video.something.new", {"publish_id": PID}) == 200
    assert len(h.slack.calls) == calls
    assert stored(h)["status"] == ""


async def test_webhook_for_an_upload_we_did_not_announce_is_200_and_quiet(hn):
    h = hn
    calls = len(h.slack.calls)
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID2}) == 200
    assert len(h.slack.calls) == calls


async def test_the_same_delivery_twice_posts_once(hn):
    h = hn
    first = await announce(h)
    body = h.tiktok.webhook_body(
        "post.publish.failed", {"publish_id": PID, "reason": "video_pull_failed"}
    )
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    assert len(thread_posts(h, first["ts"])) == 1
    assert len(updates(h, first["ts"])) == 1


async def test_the_same_delivery_twice_at_once_posts_once(hn):
    h = hn
    first = await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    statuses = await asyncio.gather(
        webhook(h, body, h.tiktok.sign_webhook(body)),
        webhook(h, body, h.tiktok.sign_webhook(body)),
    )
    assert statuses == [200, 200]
    await settle(h)
    assert len(thread_posts(h, first["ts"])) == 1
    assert len(updates(h, first["ts"])) == 1


async def test_tiktoks_publish_cancelled_event_confirms_a_cancel_once(hn):
    # TikTok's ok was a promise to try; its publish_cancelled event is the news, said once.
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await settle(h)
    posts = len(thread_posts(h, first["ts"]))
    content = {"publish_id": PID, "reason": "publish_cancelled"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    assert len(thread_posts(h, first["ts"])) == posts + 1
    assert await signed_webhook(h, "post.publish.failed", {**content, "publish_type": "X"}) == 200
    assert len(thread_posts(h, first["ts"])) == posts + 1


async def test_authorization_removed_forgets_the_link(hn):
    h = hn
    await h.link()
    assert "Brand Social" in text_of(await h.command("whoami"))
    assert await signed_webhook(h, "authorization.removed", {"reason": 1}, "open-1") == 200
    assert db_rows(h, "SELECT * FROM links WHERE open_id = ?", "open-1") == []
    whoami = text_of(await h.command("whoami"))
    assert "haven't linked" not in whoami
    assert "stopped working" in whoami and "TikTok says access was removed" in whoami


async def test_authorization_removed_for_another_open_id_keeps_the_link(hn):
    h = hn
    await h.link()
    assert await signed_webhook(h, "authorization.removed", {"reason": 1}, "open-9") == 200
    assert len(db_rows(h, "SELECT * FROM links WHERE open_id = ?", "open-1")) == 1


DAY = 24 * 3600.0


async def test_webhook_deliveries_older_than_7_days_are_forgotten(h):
    now = time.time()
    old = ("old-key", "post.publish.complete", now - 8 * DAY)
    recent = ("recent-key", "post.publish.complete", now - 1 * DAY)
    for row in (old, recent):
        db_execute(h, "INSERT INTO webhook_events VALUES (?, ?, ?)", *row)
    body = h.tiktok.webhook_body("post.publish.failed", {"publish_id": PID})
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200

    def keys() -> set[str]:
        return {r["event_key"] for r in db_rows(h, "SELECT event_key FROM webhook_events")}

    deadline = time.monotonic() + 5
    while not keys() - {"old-key", "recent-key"} and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # until this delivery is remembered
    remembered = keys()
    assert "old-key" not in remembered
    assert "recent-key" in remembered and len(remembered) == 2
