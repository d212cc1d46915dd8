"""Polling TikTok's status for announced uploads: schedule, backoff, rate limit, restarts."""

from __future__ import annotations

import asyncio
import time

import pytest

from storage import leases
from storage.db import Store
from tests.conftest import NOTIFY, buttons, db_execute, db_rows, text_of
from tests.upload_helpers import (
    PID,
    announce,
    make_due,
    settle,
    signed_webhook,
    stored,
    thread_posts,
    updates,
    wait_until,
)

# --- polling ---------------------------------------------------------------------------------


async def _announce_with_a_poll_link(h) -> dict:
    """Announce PID and leave U1 as its last actor (a cancel TikTok failed), so polls can run."""
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.bot.parts.poller.next_pass()  # the announcement's wake-up is spent
    await h.bot.parts.poller.stop()  # drive polls by hand: no timing races
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    await h.command(PID)
    await settle(h)
    return first


async def test_polling_follows_download_then_failure_and_stops(hn):
    h = hn
    first = await _announce_with_a_poll_link(h)
    poller = h.bot.parts.poller
    threads_before = len(thread_posts(h, first["ts"]))
    make_due(h)
    assert await poller.poll_due() == 1
    row = stored(h)
    assert row["status"] == "PROCESSING_DOWNLOAD" and row["final"] == 0
    assert row["next_poll_at"] > time.time() and row["poll_count"] == 1
    assert "downloading" in text_of(updates(h, first["ts"])[-1].params)
    assert len(thread_posts(h, first["ts"])) == threads_before

    h.tiktok.set_status(PID, "FAILED", "frame_rate_check_failed")
    make_due(h)
    assert await poller.poll_due() == 1
    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == (
        "FAILED",
        "frame_rate_check_failed",
        1,
    )
    assert row["next_poll_at"] is None
    reply = thread_posts(h, first["ts"])[-1]
    assert "frame rate" in text_of(reply.params).lower()
    assert buttons(updates(h, first["ts"])[-1].params) == []

    fetches = len(h.tiktok.calls_to("status"))
    db_execute(h, "UPDATE announcements SET next_poll_at = ?", time.time() - 1)
    assert await poller.poll_due() == 0
    assert len(h.tiktok.calls_to("status")) == fetches


async def test_polling_uses_the_announcements_team_account(hn):
    h = hn
    h.slack.set_user("UADMIN", is_admin=True)
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")
    h.tiktok.add_upload(PID, open_id="open-brand", status="SEND_TO_USER_INBOX")
    first = await announce(h, account="brand")
    await h.bot.parts.poller.next_pass()  # the announcement's wake-up is spent
    await h.bot.parts.poller.stop()
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    (call,) = h.tiktok.calls_to("status")
    assert h.tiktok.grant_for(call.token).open_id == "open-brand"
    row = stored(h)
    assert (row["status"], row["final"]) == ("SEND_TO_USER_INBOX", 1)
    assert "inbox" in text_of(thread_posts(h, first["ts"])[-1].params)


async def test_not_cancellable_click_makes_the_poller_find_where_it_ended(hn):
    # The real background poller, woken by the publish_not_cancellable answer.
    h = hn
    await h.link()
    h.tiktok.add_upload(PID, status="PUBLISH_COMPLETE")
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await wait_until(
        lambda: stored(h)["final"] == 1 and len(thread_posts(h, first["ts"])) >= 2,
        what="the poller to reach the final state",
    )
    assert stored(h)["status"] == "PUBLISH_COMPLETE"
    assert "posted" in text_of(thread_posts(h, first["ts"])[-1].params)
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_polling_backs_off_between_polls(hn):
    h = hn
    await _announce_with_a_poll_link(h)
    poller = h.bot.parts.poller
    gaps = []
    for _ in range(3):
        make_due(h)
        await poller.poll_due()
        gaps.append(stored(h)["next_poll_at"] - time.time())
    assert gaps[0] < gaps[1] < gaps[2]
    assert all(g <= 300 + 1 for g in gaps)


async def test_polling_without_any_link_makes_no_call_and_reschedules(hn):
    h = hn
    await announce(h)
    await h.bot.parts.poller.next_pass()  # the announcement's wake-up is spent
    await h.bot.parts.poller.stop()
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    assert h.tiktok.calls_to("status") == []
    assert stored(h)["next_poll_at"] > time.time()


async def test_polling_keeps_within_20_status_fetches_a_minute_per_account(hn):
    h = hn
    await h.link()
    ids = [f"v_pub_url~v2.5{n:02d}" for n in range(25)]
    for pid in ids:
        h.tiktok.add_upload(pid)
        await announce(h, publish_id=pid)
    await h.bot.parts.poller.next_pass()  # the announcements' wake-ups are spent
    await h.bot.parts.poller.stop()
    # U1 tried (and failed) to cancel each, so U1's link is the one that follows them.
    db_execute(h, "UPDATE announcements SET last_user_id = 'U1', next_poll_at = ?", 0)
    poller = h.bot.parts.poller
    await poller.poll_due()
    await poller.poll_due()
    assert len(h.tiktok.calls_to("status")) == 20
    waiting = db_rows(h, "SELECT * FROM announcements WHERE status = ''")
    assert len(waiting) == 5
    assert all(r["next_poll_at"] > time.time() for r in waiting)


async def test_polling_gives_up_two_hours_after_the_announcement(hn):
    h = hn
    await _announce_with_a_poll_link(h)
    db_execute(h, "UPDATE announcements SET created_at = ?", time.time() - 3 * 3600)
    make_due(h)
    await h.bot.parts.poller.poll_due()
    row = stored(h)
    assert row["final"] == 0 and row["next_poll_at"] is None


async def test_poller_stops_promptly_when_woken_just_before_shutdown(hn):
    # An announcement (or a publish_not_cancellable answer) wakes the poller; shutdown
    # (SIGTERM -> Bot.stop -> poller.stop) in the same instant must still finish.
    h = hn
    await announce(h)
    poller = h.bot.parts.poller
    await poller.next_pass()  # the poller is idle now, waiting for the next due time
    poller.wake()  # what AnnouncementService.announce does through on_new
    try:
        await asyncio.wait_for(poller.stop(), timeout=3)
    except TimeoutError:
        pytest.fail("StatusPoller.stop() hung: the wake-up swallowed the cancel")


async def test_polling_state_survives_a_restart(hn):
    h = hn
    first = await _announce_with_a_poll_link(h)
    make_due(h)
    await h.bot.parts.poller.poll_due()
    assert stored(h)["poll_count"] == 1
    await h.stop()
    h.tiktok.set_status(PID, "PUBLISH_COMPLETE")
    make_due(h)
    await h.start()  # the new bot's own background poller picks it up
    await wait_until(
        lambda: len(thread_posts(h, first["ts"])) >= 2, timeout=10, what="final state post"
    )
    row = stored(h)
    assert (row["status"], row["final"], row["next_poll_at"]) == ("PUBLISH_COMPLETE", 1, None)
    assert row["poll_count"] >= 1
    assert "posted" in text_of(thread_posts(h, first["ts"])[-1].params)


async def test_when_polling_gives_up_a_stopping_upload_stops_promising_news(hn):
    """TikTok accepted the cancel but never said how it ended: after 2 hours polling stops,
    and the message no longer says "we'll confirm here": it says how to check."""
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.bot.parts.poller.next_pass()
    await h.bot.parts.poller.stop()  # drive polls by hand
    answer = await h.command(PID)
    assert "TikTok is stopping" in text_of(answer)
    await settle(h)
    assert "we'll confirm here" in text_of(updates(h, first["ts"])[-1].params)
    h.tiktok.set_status(PID, "PROCESSING_DOWNLOAD")  # TikTok's cancel never lands
    db_execute(h, "UPDATE announcements SET created_at = ?", time.time() - 3 * 3600)
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1  # still downloading: then gives up
    row = stored(h)
    assert (row["final"], row["next_poll_at"]) == (0, None)
    shown = text_of(updates(h, first["ts"])[-1].params)
    assert "we'll confirm here" not in shown
    assert (
        "TikTok hadn't said how it ended within 2 hours of the announcement, so we stopped "
        f"checking; `/tiktok-cancel status {PID}` checks now."
    ) in shown
    listed = text_of(await h.command("list"))
    assert "so we stopped checking" in listed and "hasn't confirmed yet" not in listed

    # a webhook still counts after that
    cancelled = {"publish_id": PID, "reason": "publish_cancelled"}
    assert await signed_webhook(h, "post.publish.failed", cancelled) == 200
    await settle(h)
    final = text_of(updates(h, first["ts"])[-1].params)
    assert "Cancelled, won't be posted" in final and "stopped checking" not in final


# --- TikTok's status rate limit, shared by every replica ------------------------------------


async def test_status_fetches_stop_at_twenty_a_minute_per_link_and_the_rest_wait(h):
    await h.restart(notify_token=NOTIFY, admin_users=frozenset({"UADMIN"}))
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")
    await h.bot.parts.poller.next_pass()
    await h.bot.parts.poller.stop()  # drive polls by hand
    pids = [f"v_pub_url~v2.77{n:03d}" for n in range(25)]
    for pid in pids:
        h.tiktok.add_upload(pid, open_id="open-brand")
        await announce(h, publish_id=pid, account="brand")
    db_execute(h, "UPDATE announcements SET next_poll_at = ?", time.time() - 1)
    poller = h.bot.parts.poller
    assert await poller.poll_due() == 20  # one claim takes at most 20
    assert await poller.poll_due() == 5
    assert len(h.tiktok.calls_to("status")) == 20  # the 21st to 25th wait for the next minute
    waiting = db_rows(h, "SELECT * FROM announcements WHERE poll_count = 0")
    assert len(waiting) == 5
    assert all(time.time() < row["next_poll_at"] <= time.time() + 5 for row in waiting)


async def test_the_status_rate_limit_is_counted_in_the_database_for_every_replica(h):
    other = Store(h.settings.store_url)  # a second replica's own connection to the database
    try:
        replicas = [h.bot.parts.store, other]
        took = [
            await replicas[n % 2].run(
                leases.take_slot, "poll-rate:T|team|brand:", 20, f"r{n % 2}", 60
            )
            for n in range(30)
        ]
        assert took == [True] * 20 + [False] * 10
        db_execute(
            h, "UPDATE leases SET expires_at = ? WHERE name = ?", 0, "poll-rate:T|team|brand:7"
        )
        assert await other.run(leases.take_slot, "poll-rate:T|team|brand:", 20, "r1", 60) is True
        assert await other.run(leases.take_slot, "poll-rate:T|team|brand:", 20, "r1", 60) is False
    finally:
        other.close()
