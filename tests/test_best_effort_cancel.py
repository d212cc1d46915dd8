"""A cancel is best effort (tiktok-api.md §2): TikTok's `ok` means it will try.

End to end over HTTP: the real bot against the Slack and TikTok stand-ins, webhooks signed
as TikTok signs them. After `ok` the answer, the announcement and its thread say TikTok is
stopping it; only TikTok's word (webhook or poll) makes it final: cancelled, or posted (sent
to the inbox) despite the request, with the person who asked mentioned in the thread.
Requests for uploads the bot knows are final, or already stopping, make no TikTok call.
"""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk.models.blocks import Block

from tests.conftest import NOTIFY, buttons, db_rows, text_of
from tests.test_app_home import buttons_named, open_home, view_text
from tests.upload_helpers import (
    accessory_buttons,
    overlapping,
    settle,
    signed_webhook,
    thread_posts,
    updates,
    wait_until,
    webhook,
)
from tests.upload_helpers import announce as announce_upload
from tests.upload_helpers import make_due as make_due_of
from tests.upload_helpers import stored as stored_of

PID = "v_pub_url~v2.8100001"
PID2 = "v_pub_url~v2.8100002"
TITLE = "Spring teaser"
NAME = "\u201cSpring teaser\u201d"  # how the bot names the upload
CMD = "/tiktok-cancel"
CMD_STATUS = f"`/tiktok-cancel status {PID}`"


@pytest.fixture
async def hb(h):
    """The bot with announcements on, U1 linked to the account that started PID, the
    background poller stopped (polls are driven by hand), and TikTok deciding later."""
    await h.restart(notify_token=NOTIFY)
    await h.link("U1", open_id="open-1")
    await h.link("U2", open_id="open-1")
    h.tiktok.settle_cancels = False  # TikTok's ok is a promise; its word comes later
    h.tiktok.add_upload(PID, open_id="open-1")
    return h


async def announce(h, publish_id: str = PID, **fields) -> dict:
    return await announce_upload(h, publish_id=publish_id, **fields)


def stored(h, publish_id: str = PID) -> dict:
    row = stored_of(h, publish_id)
    assert row is not None
    return row


def make_due(h, publish_id: str = PID) -> None:
    make_due_of(h, publish_id)


async def stop_poller(h) -> None:
    await h.bot.parts.poller.next_pass()  # the announcement's wake-up is spent
    await h.bot.parts.poller.stop()


def assert_valid_blocks(message: dict) -> None:
    """Every block is valid per slack_sdk's own Block Kit models."""
    for block in message.get("blocks", []):
        Block.parse(block).validate_json()


def cancel_rows(h, publish_id: str = PID) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel" and r["publish_id"] == publish_id]


async def announced_and_stopping(h) -> dict:
    """Announce PID, U1 presses Cancel upload, TikTok answers ok: the upload is stopping."""
    first = await announce(h, title=TITLE)
    await stop_poller(h)
    answer = await h.click("cancel_upload", PID)
    await settle(h)
    assert "TikTok is stopping" in text_of(answer)
    return first


# --- ok: stopping, not "won't be posted" ------------------------------------------------------


async def test_ok_says_stopping_in_the_answer_the_announcement_and_the_thread(hb):
    h = hb
    first = await announce(h, title=TITLE)
    await stop_poller(h)
    answer = await h.click("cancel_upload", PID)
    await settle(h)

    text = text_of(answer)
    assert f"TikTok is stopping {NAME}." in text
    assert (
        "*Still running:* stopping \u2014 we'll confirm on the announcement and in its thread "
        "when TikTok does"
    ) in text
    assert "won't be posted" not in text
    assert_valid_blocks(answer)

    update = updates(h, first["ts"])[-1].params
    shown = text_of(update)
    assert "*Stopping* \u2014 <@U1> asked TikTok to cancel it <!date^" in shown
    assert "; we'll confirm here." in shown
    assert "won't be posted" not in shown
    assert buttons(update) == [], "a second press while TikTok is stopping it is pointless"
    assert_valid_blocks(update)

    (reply,) = thread_posts(h, first["ts"])
    said = text_of(reply.params)
    assert f"<@U1> asked to cancel via a button: TikTok is stopping {NAME}." in said
    assert "*Still running:* stopping \u2014 we'll confirm here when TikTok does" in said
    assert_valid_blocks(reply.params)

    row = stored(h)
    assert (row["final"], row["status"], row["fail_reason"]) == (0, "", "")
    assert row["cancel_by"] == "U1" and row["cancel_at"] > 0
    assert 10 < row["next_poll_at"] - time.time() <= 15, "TikTok's word is asked for soon"
    (audit,) = cancel_rows(h)
    assert (audit["outcome"], audit["user_id"], audit["source"]) == ("ok", "U1", "button")


async def test_an_unannounced_upload_is_stopping_and_the_answer_says_a_dm_will_tell(hb):
    h = hb
    h.tiktok.add_upload(PID2, open_id="open-1")
    answer = await h.command(PID2)
    text = text_of(answer)
    assert f"TikTok is stopping upload `{PID2}`." in text
    assert (
        "*Still running:* stopping \u2014 we'll tell you by direct message when TikTok confirms"
    ) in text
    assert "nobody here will be told" not in text
    assert "we'll confirm" not in text


# --- TikTok's word: cancelled ------------------------------------------------------------------


async def test_publish_cancelled_webhook_makes_it_cancelled_and_confirms_in_the_thread(hb):
    h = hb
    first = await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID)  # TikTok managed to stop it
    content = {"publish_id": PID, "reason": "publish_cancelled", "publish_type": "DIRECT_POST"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200

    update = updates(h, first["ts"])[-1].params
    shown = text_of(update)
    assert "*Cancelled, won't be posted* \u2014 <@U1> asked TikTok to cancel it <!date^" in shown
    assert "TikTok confirmed it <!date^" in shown
    assert "Stopping" not in shown
    assert buttons(update) == []
    assert_valid_blocks(update)

    replies = thread_posts(h, first["ts"])
    assert len(replies) == 2
    said = text_of(replies[-1].params)
    assert f"{NAME} was cancelled, so it won't be posted." in said
    assert "<@U1> asked TikTok to cancel it <!date^" in said
    assert "TikTok confirmed it <!date^" in said
    assert "*Still running:* no" in said
    assert_valid_blocks(replies[-1].params)

    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == ("FAILED", "publish_cancelled", 1)
    assert row["next_poll_at"] is None and row["final_at"] > 0


async def test_a_repeated_webhook_posts_nothing_twice(hb):
    h = hb
    first = await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID)
    content = {"publish_id": PID, "reason": "publish_cancelled"}
    body = h.tiktok.webhook_body("post.publish.failed", content)
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    posts, edits = len(thread_posts(h, first["ts"])), len(updates(h, first["ts"]))
    # the same delivery again, and the same news in a new delivery (another create_time)
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    again = json.loads(body)
    again["create_time"] += 7
    again_body = json.dumps(again).encode()
    assert await webhook(h, again_body, h.tiktok.sign_webhook(again_body)) == 200
    assert (len(thread_posts(h, first["ts"])), len(updates(h, first["ts"]))) == (posts, edits)
    assert posts == 2 and edits == 2


async def test_publish_cancelled_found_by_polling_confirms_the_same_way(hb):
    h = hb
    first = await announced_and_stopping(h)
    poller = h.bot.parts.poller

    make_due(h)  # TikTok hasn't decided yet: still stopping, nothing said
    assert await poller.poll_due() == 1
    assert "*Stopping* \u2014 <@U1>" in text_of(updates(h, first["ts"])[-1].params)
    assert len(thread_posts(h, first["ts"])) == 1
    assert stored(h)["final"] == 0

    h.tiktok.cancel_outcome(PID)
    make_due(h)
    assert await poller.poll_due() == 1
    shown = text_of(updates(h, first["ts"])[-1].params)
    assert "*Cancelled, won't be posted* \u2014 <@U1> asked TikTok to cancel it" in shown
    said = text_of(thread_posts(h, first["ts"])[-1].params)
    assert f"{NAME} was cancelled, so it won't be posted." in said
    assert "TikTok confirmed it" in said
    assert len(thread_posts(h, first["ts"])) == 2
    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == ("FAILED", "publish_cancelled", 1)
    assert len(h.tiktok.calls_to("status")) == 2


async def test_the_background_poller_follows_a_stopping_upload_by_itself(hb):
    h = hb
    first = await announce(h, title=TITLE)
    await h.click("cancel_upload", PID)
    await settle(h)
    h.tiktok.cancel_outcome(PID)
    # The poller was woken for a poll 15 s out; bring that forward instead of waiting.
    make_due(h)
    h.bot.parts.poller.wake()
    await wait_until(
        lambda: stored(h)["final"] == 1 and len(thread_posts(h, first["ts"])) == 2,
        timeout=10,
        what="the poller to find TikTok's word",
    )
    assert stored(h)["fail_reason"] == "publish_cancelled"


# --- TikTok's word: it went through anyway ---------------------------------------------------


async def test_posted_despite_the_cancel_mentions_the_asker_with_the_next_step(hb):
    h = hb
    first = await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID, "PUBLISH_COMPLETE")  # too far along to stop
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID}) == 200

    update = updates(h, first["ts"])[-1].params
    shown = text_of(update)
    assert "*Posted despite the cancel request* \u2014 <@U1> asked TikTok to cancel it" in shown
    assert "but TikTok posted it <!date^" in shown
    assert "delete the post in the TikTok app" in shown
    assert "won't be posted" not in shown and "Stopping" not in shown
    assert buttons(update) == []
    assert_valid_blocks(update)

    replies = thread_posts(h, first["ts"])
    assert len(replies) == 2
    said = text_of(replies[-1].params)
    assert f"{NAME} was posted on TikTok even though <@U1> asked to cancel it." in said
    assert replies[-1].params["text"].count("<@U1>") == 1, "the notification names the asker"
    assert "*Still running:* no \u2014 it is posted" in said
    assert "*Next:* If it shouldn't be live, delete the post in the TikTok app" in said
    assert_valid_blocks(replies[-1].params)

    # TikTok's later "publicly available" adds the post ID: the announcement, not the thread.
    post = {"publish_id": PID, "post_id": 7312345678901234567}
    assert await signed_webhook(h, "post.publish.publicly_available", post) == 200
    assert json.loads(stored(h)["post_ids"]) == ["7312345678901234567"]
    assert len(updates(h, first["ts"])) == 3
    assert len(thread_posts(h, first["ts"])) == 2
    assert await signed_webhook(h, "post.publish.publicly_available", post) == 200
    assert len(updates(h, first["ts"])) == 3 and len(thread_posts(h, first["ts"])) == 2


async def test_sent_to_the_inbox_despite_the_cancel_found_by_polling(hb):
    h = hb
    first = await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID, "SEND_TO_USER_INBOX")
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    shown = text_of(updates(h, first["ts"])[-1].params)
    assert "*Sent to the inbox despite the cancel request* \u2014 <@U1>" in shown
    assert "delete the draft from the inbox in the TikTok app" in shown
    said = text_of(thread_posts(h, first["ts"])[-1].params)
    assert (
        f"{NAME} was sent to the creator's TikTok inbox even though <@U1> asked to cancel it."
    ) in said
    assert "It isn't posted." in said
    assert "delete the draft from the inbox in the TikTok app" in said
    assert stored(h)["final"] == 1


# --- no TikTok call when the bot already knows -----------------------------------------------


async def test_a_click_on_a_final_upload_makes_no_tiktok_call_and_is_audited(hb):
    h = hb
    first = await announce(h, title=TITLE)
    await stop_poller(h)
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID}) == 200
    edits = len(updates(h, first["ts"]))

    answer = await h.click("cancel_upload", PID, user_id="U2")
    await settle(h)
    assert h.tiktok.calls_to("cancel") == []
    text = text_of(answer)
    assert f"Nothing to cancel: {NAME} had already finished at TikTok." in text
    assert f"*What TikTok told us:* {NAME} has been posted on TikTok." in text
    assert "*Still running:* no" in text
    assert CMD_STATUS in text
    assert_valid_blocks(answer)

    (row,) = cancel_rows(h)
    assert (row["outcome"], row["user_id"], row["source"]) == ("already_final", "U2", "button")
    assert row["state"] == "finished" and not row["http_status"]
    said = text_of(thread_posts(h, first["ts"])[-1].params)
    assert f"<@U2> asked to cancel via a button: Nothing to cancel: {NAME}" in said
    assert len(updates(h, first["ts"])) == edits, "nothing about the upload changed"


async def test_a_command_on_a_confirmed_cancel_answers_from_what_we_know(hb):
    h = hb
    await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID)
    await signed_webhook(
        h, "post.publish.failed", {"publish_id": PID, "reason": "publish_cancelled"}
    )
    calls = len(h.tiktok.calls_to("cancel"))

    answer = await h.command(f"{PID} double-checking", user_id="U2")
    assert len(h.tiktok.calls_to("cancel")) == calls
    text = text_of(answer)
    assert f"Nothing to cancel: {NAME} had already finished at TikTok." in text
    assert f"*What TikTok told us:* {NAME} was cancelled, so it won't be posted." in text
    assert "<@U1> asked TikTok to cancel it <!date^" in text
    assert CMD_STATUS in text
    assert cancel_rows(h)[-1]["outcome"] == "already_final"
    assert cancel_rows(h)[-1]["reason"] == "double-checking"


async def test_someone_without_a_link_hears_it_is_final_not_to_link_first(hb):
    h = hb
    first = await announce(h, title=TITLE)
    await stop_poller(h)
    await signed_webhook(h, "post.publish.failed", {"publish_id": PID, "reason": "spam_risk"})
    answer = await h.click("cancel_upload", PID, user_id="U9")
    text = text_of(answer)
    assert f"Nothing to cancel: {NAME} had already finished at TikTok." in text
    assert "haven't linked" not in text
    assert h.tiktok.calls_to("cancel") == []
    assert cancel_rows(h)[-1]["outcome"] == "already_final"
    await settle(h)
    assert len(thread_posts(h, first["ts"])) == 2  # the failure, then this attempt


async def test_a_new_request_while_stopping_makes_no_tiktok_call_and_names_who_asked(hb):
    h = hb
    first = await announced_and_stopping(h)
    assert len(h.tiktok.calls_to("cancel")) == 1

    answer = await h.command(PID, user_id="U2")
    await settle(h)
    assert len(h.tiktok.calls_to("cancel")) == 1
    text = text_of(answer)
    assert f"TikTok is already stopping {NAME}." in text
    assert (
        "<@U1> asked TikTok to cancel it and TikTok said it would try, so we didn't send a "
        "second request."
    ) in text
    assert "*Still running:* stopping \u2014 we'll confirm on the announcement" in text
    assert_valid_blocks(answer)
    row = cancel_rows(h)[-1]
    assert (row["outcome"], row["user_id"], row["source"]) == ("already_stopping", "U2", "command")
    row = stored(h)
    assert (row["cancel_by"], row["final"]) == ("U1", 0), "U2's request changes nothing"
    assert "*Stopping* \u2014 <@U1>" in text_of(updates(h, first["ts"])[-1].params)


# --- in_flight: who is on it -----------------------------------------------------------------


@pytest.mark.parametrize("announced", [True, False])
async def test_in_flight_names_the_first_person_and_promises_nothing_false(hb, announced):
    h = hb
    first_post = await announce(h, title=TITLE) if announced else None
    _, second = await overlapping(h, h.command(PID, user_id="U1"), h.command(PID, user_id="U2"))
    assert len(h.tiktok.calls_to("cancel")) == 1
    text = text_of(second)
    name = NAME if announced else f"upload `{PID}`"
    assert f"A cancel for {name} is already under way." in text
    assert (
        "<@U1> asked to cancel it a moment ago and TikTok hasn't answered yet, so we didn't "
        "send a second request."
    ) in text
    assert (
        "If the upload was announced, the outcome will show in the announcement's thread; "
        f"either way {CMD_STATUS} shows where it is."
    ) in text
    assert "will appear here" not in text
    assert_valid_blocks(second)
    await settle(h)
    outcomes = sorted((r["user_id"], r["outcome"]) for r in cancel_rows(h))
    assert outcomes == [("U1", "ok"), ("U2", "in_flight")]
    if first_post is not None:  # what the answer promised: the outcome in the thread
        (reply,) = thread_posts(h, first_post["ts"])
        assert f"<@U1> asked to cancel via {CMD}: TikTok is stopping {NAME}." in text_of(
            reply.params
        )


# --- PROCESSING_UPLOAD: TikTok can't stop it, so no Cancel button -----------------------------


async def test_processing_upload_offers_no_cancel_in_announcement_list_or_home(hb):
    h = hb
    h.tiktok.add_upload(PID2, open_id="open-1", status="PROCESSING_UPLOAD")
    h.tiktok.add_upload("v_pub_url~v2.8100003", open_id="open-1")  # downloading: cancellable
    first = await announce(h, publish_id=PID2, title="File upload")
    await announce(h, publish_id="v_pub_url~v2.8100003", title="Pulled from a link")
    await stop_poller(h)
    # U1's earlier attempt failed at TikTok (busy), so U1's link is the one that follows it.
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    await h.command(PID2)
    await settle(h)
    assert [b["action_id"] for b in buttons(updates(h, first["ts"])[-1].params)] == [
        "cancel_upload"
    ]
    make_due(h, PID2)
    assert await h.bot.parts.poller.poll_due() == 1
    assert stored(h, PID2)["status"] == "PROCESSING_UPLOAD"

    update = updates(h, first["ts"])[-1].params
    assert "*Status:* This upload is still being uploaded to TikTok." in text_of(update)
    assert buttons(update) == []
    assert_valid_blocks(update)

    listed = await h.command("list")
    assert "\u201cFile upload\u201d \u2014 announced" in text_of(listed)
    assert "It is still being uploaded to TikTok." in text_of(listed)
    values = [b["value"] for b in accessory_buttons(listed) + buttons(listed)]
    assert values == ["v_pub_url~v2.8100003"]
    assert_valid_blocks(listed)

    view = await open_home(h, "U1")
    assert "\u201cFile upload\u201d" in view_text(view)
    assert [b["value"] for b in buttons_named(view, "cancel_upload")] == ["v_pub_url~v2.8100003"]
    assert_valid_blocks(view)


async def test_a_stopping_upload_is_listed_without_a_cancel_button(hb):
    h = hb
    await announced_and_stopping(h)
    listed = await h.command("list")
    text = text_of(listed)
    assert f"{NAME} \u2014 announced" in text
    assert "Stopping: <@U1> asked TikTok to cancel it <!date^" in text
    assert "TikTok hasn't confirmed yet." in text
    assert accessory_buttons(listed) + buttons(listed) == []
    view = await open_home(h, "U2")
    assert "Stopping: <@U1> asked TikTok to cancel it" in view_text(view)
    assert buttons_named(view, "cancel_upload") == []


async def test_every_cancel_row_of_the_flow_is_finished(hb):
    h = hb
    await announced_and_stopping(h)
    await h.command(PID, user_id="U2")
    h.tiktok.cancel_outcome(PID)
    await signed_webhook(
        h, "post.publish.failed", {"publish_id": PID, "reason": "publish_cancelled"}
    )
    await h.click("cancel_upload", PID, user_id="U2")
    await settle(h)
    rows = db_rows(h, "SELECT outcome, state FROM audit WHERE action = 'cancel' ORDER BY id")
    assert rows == [
        {"outcome": "ok", "state": "finished"},
        {"outcome": "already_stopping", "state": "finished"},
        {"outcome": "already_final", "state": "finished"},
    ]
    assert len(h.tiktok.calls_to("cancel")) == 1


async def test_a_later_webhook_moves_a_final_state_on_and_says_so(hb):
    # Inbox draft first (despite the cancel), then the creator posts it from the inbox: news.
    h = hb
    first = await announced_and_stopping(h)
    h.tiktok.cancel_outcome(PID, "SEND_TO_USER_INBOX")
    inbox = {"publish_id": PID, "publish_type": "INBOX_SHARE"}
    assert await signed_webhook(h, "post.publish.inbox_delivered", inbox) == 200
    assert "inbox even though <@U1>" in text_of(thread_posts(h, first["ts"])[-1].params)
    h.tiktok.cancel_outcome(PID, "PUBLISH_COMPLETE")
    assert await signed_webhook(h, "post.publish.complete", inbox) == 200
    replies = thread_posts(h, first["ts"])
    assert len(replies) == 3
    said = text_of(replies[-1].params)
    assert f"{NAME} was posted on TikTok even though <@U1> asked to cancel it." in said
    shown = text_of(updates(h, first["ts"])[-1].params)
    assert "*Posted despite the cancel request* \u2014 <@U1>" in shown
    assert stored(h)["status"] == "PUBLISH_COMPLETE"
