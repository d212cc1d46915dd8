"""Held uploads in `list` and the App Home (start time, Cancel and Start now, only from channels
the person can see), and what follows a start: polling, webhooks and a best-effort Cancel on
the message it turned into. Over HTTP against the Slack and TikTok stand-ins."""

from __future__ import annotations

import time

import pytest

from tests.conftest import buttons, db_execute, text_of
from tests.held_helpers import (
    ADMIN,
    BOB,
    EVE,
    assert_valid_blocks,
    body,
    held_harness,
    inits,
    row,
    submit,
    until,
)
from tests.test_app_home import home_click, open_home, publishes_for, view_buttons, view_text
from tests.upload_helpers import make_due, settle, signed_webhook, stored, thread_posts, updates

PRIVATE = "GPRIV"


@pytest.fixture
async def hb(h):
    return await held_harness(h)


def held_buttons_of(message: dict) -> list[tuple[str, str]]:
    return [(b["action_id"], b["value"]) for b in buttons(message)]


async def test_list_shows_a_held_upload_with_its_start_time_and_both_buttons(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    starts_at = int(answer["starts_at"])

    shown = await hb.command("list", user_id=BOB)
    assert_valid_blocks(shown)
    text = text_of(shown)
    assert "*Held, not sent to TikTok yet* (1):" in text
    assert (
        "\u201cSpring teaser\u201d\nGoes to TikTok as Brand Social TT "
        f"<!date^{starts_at}^{{date_short_pretty}} at {{time}} ({{ago}})|"
    ) in text
    assert (
        ", Public.\n*Still running:* not yet \u2014 it starts "
        f"<!date^{starts_at}^{{date_short_pretty}} at {{time}}|"
    ) in text
    assert "unless someone cancels it; nothing has been sent to TikTok yet" in text
    assert held_buttons_of(shown) == [("cancel_held", "run-1"), ("start_held", "run-1")]
    assert shown["text"] == "1 held"

    # Cancel pressed on the list: held back, and the list no longer shows it
    reply = await hb.click("cancel_held", "run-1", user_id=BOB)
    assert "Cancelled: \u201cSpring teaser\u201d was never sent to TikTok." in text_of(reply)
    assert row(hb)["state"] == "cancelled" and inits(hb) == []
    after = await hb.command("list", user_id=BOB)
    assert "Spring teaser" not in text_of(after)
    assert "No announced uploads are still running or held" in text_of(after)


async def test_list_shows_a_missed_window_as_waiting_for_start_now_or_cancel(hb):
    await submit(hb, body(hold_s=60))
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time() - 100, "run-1"
    )
    hb.bot.parts.held_scheduler.wake()
    await until(lambda: row(hb)["state"] == "asking")
    text = text_of(await hb.command("list", user_id=BOB))
    assert "Not started: the bot was down when its window closed" in text
    assert (
        "*Still running:* no \u2014 never sent to TikTok; it waits for Start now or Cancel" in text
    )
    assert inits(hb) == []


async def test_list_hides_held_uploads_in_channels_the_person_cannot_see(hb):
    hb.slack.set_channel(PRIVATE, private=True, members=[BOB])
    status, _ = await submit(hb, {**body(), "channel": PRIVATE})
    assert status == 202
    assert "Spring teaser" in text_of(await hb.command("list", user_id=BOB))
    outsider = await hb.command("list", user_id=EVE)
    assert "Spring teaser" not in text_of(outsider) and buttons(outsider) == []


async def test_home_shows_held_uploads_and_start_now_there_starts_it_once(hb):
    _, answer = await submit(hb, body(hold_s=600))
    view = await open_home(hb, BOB)
    text = view_text(view)
    assert "*Held, not sent to TikTok yet* (1):" in text
    assert f"<!date^{int(answer['starts_at'])}^" in text
    held = [(b["action_id"], b.get("value")) for b in view_buttons(view)]
    assert ("cancel_held", "run-1") in held and ("start_held", "run-1") in held

    before = len(publishes_for(hb, BOB))
    await home_click(hb, "start_held", "run-1", user_id=BOB)
    await until(lambda: len(publishes_for(hb, BOB)) > before)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "started"
    publish_id = row(hb)["publish_id"]
    dm = [c for c in hb.slack.calls_to("chat.postMessage") if c.params.get("channel") == BOB]
    assert "Started: TikTok accepted" in dm[-1].params["text"]
    republished = publishes_for(hb, BOB)[-1].params["view"]
    assert "Held, not sent" not in view_text(republished)
    running = [(b["action_id"], b.get("value")) for b in view_buttons(republished)]
    assert ("cancel_upload", publish_id) in running
    assert not any(action == "start_held" for action, _ in running)


async def test_a_started_upload_is_followed_by_polls_and_webhooks_and_cancels_best_effort(hb):
    await submit(hb, body(hold_s=600))
    await hb.click("start_held", "run-1", user_id=ADMIN)
    publish_id = row(hb)["publish_id"]
    ts = row(hb)["ts"]
    await hb.bot.parts.poller.stop()  # drive polls by hand: no timing races

    # a poll with the team account's token finds it downloading
    make_due(hb, publish_id)
    assert await hb.bot.parts.poller.poll_due() == 1
    (fetch,) = hb.tiktok.calls_to("status")
    assert hb.tiktok.grant_for(fetch.token).open_id == "open-brand"
    assert stored(hb, publish_id)["status"] == "PROCESSING_DOWNLOAD"
    assert "downloading" in text_of(updates(hb, ts)[-1].params)

    # Cancel upload on the same message is TikTok's best effort, with the team token
    reply = await hb.click("cancel_upload", publish_id, user_id=BOB)
    assert "TikTok is stopping" in text_of(reply)
    (cancel,) = hb.tiktok.calls_to("cancel")
    assert hb.tiktok.grant_for(cancel.token).open_id == "open-brand"
    await settle(hb)
    assert "Stopping" in text_of(updates(hb, ts)[-1].params)

    # TikTok's word comes by webhook: cancelled, final, no button, said in the thread
    failed = {"publish_id": publish_id, "reason": "publish_cancelled"}
    assert await signed_webhook(hb, "post.publish.failed", failed, "open-brand") == 200
    await settle(hb)
    final = stored(hb, publish_id)
    assert (final["status"], final["fail_reason"], final["final"]) == (
        "FAILED",
        "publish_cancelled",
        1,
    )
    last = {"text": "", "blocks": updates(hb, ts)[-1].params["blocks"]}
    assert "Cancelled, won't be posted" in text_of(last) and buttons(last) == []
    said = text_of(thread_posts(hb, ts)[-1].params)
    assert "\u201cSpring teaser\u201d was cancelled, so it won't be posted." in said
    assert f"<@{BOB}> asked TikTok to cancel it <!date^" in said
    assert await hb.bot.parts.poller.poll_due() == 0  # final: no more polls


async def test_home_history_names_held_cancels_and_starts_in_plain_words(hb):
    await submit(hb, body("run-1", hold_s=600))
    await submit(hb, body("run-2", hold_s=600))
    hb.tiktok.script_error("init", 403, "spam_risk_too_many_posts")
    await hb.click("cancel_held", "run-1", user_id=BOB)
    await hb.click("start_held", "run-2", user_id=BOB)
    text = view_text(await open_home(hb, BOB))
    assert "Cancelled the held upload `run-1` as brand: never sent to TikTok" in text
    assert (
        "Pressed Start now on the held upload `run-2` as brand: TikTok didn't take it "
        "(`spam_risk_too_many_posts`)"
    ) in text
    assert "Did something" not in text and "it didn't work" not in text
