"""A best-effort cancel is followed to its end, announced or not (issue 17).

End to end over HTTP against the Slack and TikTok stand-ins. For an upload the bot did not
announce, TikTok's `ok` starts following it (webhooks and polls, with the link that made the
cancel) and the person who asked hears by direct message how it ended: cancelled, posted or
sent to the inbox anyway (with how to delete it), or, when polling gives up, that TikTok
hasn't said and how to check. One DM per ending, however often TikTok repeats itself and
whichever replica hears it. `status` says a cancel is pending while TikTok hasn't confirmed
it, and the App Home's history follows each cancel to how it ended.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.messages import FollowedView, cancel_ending_dm, cancel_unknown_dm, home_view
from bot.uploads.cancel_following import FollowedCancels
from storage import followed
from storage.db import Store
from storage.followed import FollowedCancel
from tests.conftest import NOTIFY, buttons, db_execute, db_rows, text_of
from tests.test_app_home import open_home, view_text
from tests.upload_helpers import announce, settle, signed_webhook, thread_posts, webhook

PID = "v_pub_url~v2.9100001"
PID2 = "v_pub_url~v2.9100002"
STATUS_CMD = f"`/tiktok-cancel status {PID}`"
NAME = f"upload `{PID}`"  # how the bot names an upload it has no title for


@pytest.fixture
async def hf(h):
    """U1 and U2 linked to the account that started PID; TikTok decides later; polls are
    driven by hand (the background poller is stopped)."""
    await h.restart(notify_token=NOTIFY, audit_channel="CAUDIT")
    await h.bot.parts.poller.stop()
    await h.link("U1", open_id="open-1")
    await h.link("U2", open_id="open-1")
    h.tiktok.settle_cancels = False
    h.tiktok.add_upload(PID, open_id="open-1")
    return h


def dms_to(h, user_id: str, publish_id: str = PID) -> list[dict]:
    """What was posted to `user_id` (a DM; or a channel, by its ID) about the upload."""
    posts = [c.params for c in h.slack.calls_to("chat.postMessage")]
    return [p for p in posts if p["channel"] == user_id and publish_id in json.dumps(p)]


def followed_row(h, publish_id: str = PID) -> dict:
    (row,) = db_rows(h, "SELECT * FROM followed_cancels WHERE publish_id = ?", publish_id)
    return row


def make_due(h, publish_id: str = PID) -> None:
    db_execute(
        h,
        "UPDATE followed_cancels SET next_poll_at = ? WHERE publish_id = ?",
        time.time() - 1,
        publish_id,
    )


def assert_valid(message: dict) -> None:
    assert message["text"]
    for block in message["blocks"]:
        Block.parse(block).validate_json()


async def cancelled_by_u1(h, publish_id: str = PID) -> dict:
    answer = await h.command(publish_id)
    await settle(h)
    assert f"TikTok is stopping upload `{publish_id}`." in text_of(answer)
    return answer


# --- the answer, and the audit entry, say where they'll hear --------------------------------


async def test_the_ok_answer_promises_a_dm_and_the_audit_entry_names_who_will_hear(hf):
    h = hf
    answer = await cancelled_by_u1(h)
    text = text_of(answer)
    assert (
        "*Still running:* stopping \u2014 we'll tell you by direct message when TikTok confirms"
    ) in text
    assert "nobody here will be told" not in text
    assert_valid(answer)
    (entry,) = [
        c.params for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == "CAUDIT"
    ]
    said = text_of(entry)
    assert f"<@U1> asked to cancel via /tiktok-cancel: TikTok is stopping {NAME}." in said
    assert (
        "*Still running:* stopping \u2014 we'll tell <@U1> by direct message when TikTok confirms"
    ) in said
    assert_valid(entry)
    row = followed_row(h)
    assert (row["user_id"], row["link_kind"], row["link_owner"], row["final"]) == (
        "U1",
        "user",
        "U1",
        0,
    )
    assert 10 < row["next_poll_at"] - time.time() <= 15, "TikTok's word is asked for soon"
    assert dms_to(h, "U1") == [], "nothing to tell yet"


# --- TikTok's word by webhook ----------------------------------------------------------------


async def test_a_publish_cancelled_webhook_dms_the_asker_once(hf):
    h = hf
    await cancelled_by_u1(h)
    h.tiktok.cancel_outcome(PID)
    content = {"publish_id": PID, "reason": "publish_cancelled", "publish_type": "DIRECT_POST"}
    body = h.tiktok.webhook_body("post.publish.failed", content)
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200

    (dm,) = dms_to(h, "U1")
    said = text_of(dm)
    assert f"Upload `{PID}` was cancelled, so it won't be posted." in said
    assert "You asked TikTok to cancel it <!date^" in said
    assert "TikTok confirmed it <!date^" in said
    assert "*Still running:* no" in said
    assert "TikTok account: Brand Social" in said
    assert_valid(dm)
    row = followed_row(h)
    assert (row["status"], row["fail_reason"], row["final"], row["told"]) == (
        "FAILED",
        "publish_cancelled",
        1,
        "publish_cancelled",
    )
    assert row["next_poll_at"] is None

    # The same delivery again, and the same news in a new delivery: no second DM.
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    again = json.loads(body)
    again["create_time"] += 7
    again_body = json.dumps(again).encode()
    assert await webhook(h, again_body, h.tiktok.sign_webhook(again_body)) == 200
    assert len(dms_to(h, "U1")) == 1
    assert dms_to(h, "U2") == []


async def test_posted_anyway_dms_how_to_delete_it(hf):
    h = hf
    await cancelled_by_u1(h)
    h.tiktok.cancel_outcome(PID, "PUBLISH_COMPLETE")
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID}) == 200
    (dm,) = dms_to(h, "U1")
    said = text_of(dm)
    assert f"Upload `{PID}` was posted on TikTok even though you asked to cancel it." in said
    assert "*Still running:* no \u2014 it is posted" in said
    assert "delete the post in the TikTok app" in said
    assert "won't be posted" not in said
    assert_valid(dm)
    # TikTok's later "publicly available" is the same ending: nothing more to tell.
    post = {"publish_id": PID, "post_id": 7312345678901234567}
    assert await signed_webhook(h, "post.publish.publicly_available", post) == 200
    assert len(dms_to(h, "U1")) == 1


# --- TikTok's word by polling ----------------------------------------------------------------


async def test_polling_finds_the_cancel_and_dms_the_same_way(hf):
    h = hf
    await cancelled_by_u1(h)
    poller = h.bot.parts.poller

    make_due(h)  # TikTok hasn't decided yet: nothing to tell
    assert await poller.poll_due() == 1
    row = followed_row(h)
    assert (row["status"], row["final"], row["poll_count"]) == ("PROCESSING_DOWNLOAD", 0, 1)
    assert row["next_poll_at"] > time.time()
    assert dms_to(h, "U1") == []

    h.tiktok.cancel_outcome(PID)
    make_due(h)
    assert await poller.poll_due() == 1
    (dm,) = dms_to(h, "U1")
    assert f"Upload `{PID}` was cancelled, so it won't be posted." in text_of(dm)
    assert_valid(dm)
    assert followed_row(h)["next_poll_at"] is None
    make_due(h)  # a final upload is never polled again
    assert await poller.poll_due() == 0
    assert len(h.tiktok.calls_to("status")) == 2


async def test_sent_to_the_inbox_anyway_found_by_polling_says_how_to_delete_the_draft(hf):
    h = hf
    await cancelled_by_u1(h)
    h.tiktok.cancel_outcome(PID, "SEND_TO_USER_INBOX")
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    (dm,) = dms_to(h, "U1")
    said = text_of(dm)
    assert (
        f"Upload `{PID}` was sent to the creator's TikTok inbox even though you asked to cancel it."
    ) in said
    assert "It isn't posted." in said
    assert "delete the draft from the inbox in the TikTok app" in said
    assert_valid(dm)


async def test_polls_use_the_team_account_that_made_the_cancel(h):
    await h.restart(admin_users=frozenset({"UADMIN"}))
    await h.bot.parts.poller.stop()
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")
    await h.command("team grant brand <@U3>", user_id="UADMIN")
    h.tiktok.settle_cancels = False
    h.tiktok.add_upload(PID, open_id="open-brand")
    answer = await h.command(f"as brand {PID}", user_id="U3")
    await settle(h)
    assert "we'll tell you by direct message when TikTok confirms" in text_of(answer)
    row = followed_row(h)
    assert (row["user_id"], row["link_kind"], row["link_owner"]) == ("U3", "team", "brand")

    h.tiktok.cancel_outcome(PID)
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    (call,) = h.tiktok.calls_to("status")
    assert h.tiktok.grant_for(call.token).open_id == "open-brand"
    (dm,) = dms_to(h, "U3")
    assert f"Upload `{PID}` was cancelled, so it won't be posted." in text_of(dm)


# --- polling gives up ------------------------------------------------------------------------


async def test_when_polling_gives_up_the_dm_says_unknown_and_how_to_check(hf):
    h = hf
    await cancelled_by_u1(h)
    db_execute(h, "UPDATE followed_cancels SET asked_at = ?", time.time() - 3 * 3600)
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1  # still downloading: then gives up
    row = followed_row(h)
    assert (row["final"], row["next_poll_at"], row["told"]) == (0, None, "unknown")

    (dm,) = dms_to(h, "U1")
    said = text_of(dm)
    assert f"TikTok hasn't said how your cancel of upload `{PID}` ended." in said
    assert "We kept asking TikTok for 2 hours" in said
    assert "so we stopped checking" in said
    assert "*Still running:* unknown" in said
    assert f"check where it is with {STATUS_CMD}" in said
    assert "won't be posted" not in said
    assert_valid(dm)

    # A second request now says it is pending without promising news
    answer = text_of(await h.command(PID, user_id="U2"))
    assert "TikTok is already stopping" in answer
    assert f"TikTok hasn't said how it ended and we've stopped checking; {STATUS_CMD}" in answer

    # TikTok's word still counts after that, and is told.
    h.tiktok.cancel_outcome(PID)
    cancelled = {"publish_id": PID, "reason": "publish_cancelled"}
    assert await signed_webhook(h, "post.publish.failed", cancelled) == 200
    first, second = dms_to(h, "U1")
    assert f"Upload `{PID}` was cancelled, so it won't be posted." in text_of(second)


# --- once, across replicas -------------------------------------------------------------------


async def test_a_webhook_during_a_poll_and_a_second_replica_tell_it_once(hf):
    h = hf
    await cancelled_by_u1(h)
    h.tiktok.cancel_outcome(PID)
    make_due(h)
    hold = h.tiktok.hold("status")
    poll = asyncio.ensure_future(h.bot.parts.poller.poll_due())
    try:
        await hold.wait_arrived(timeout=10)  # the poll's fetch is at TikTok now
        cancelled = {"publish_id": PID, "reason": "publish_cancelled"}
        assert await signed_webhook(h, "post.publish.failed", cancelled) == 200
        assert len(dms_to(h, "U1")) == 1
    finally:
        hold.release()
    assert await poll == 1  # the poll's answer is the same news: told already
    assert len(dms_to(h, "U1")) == 1

    other = Store(h.settings.store_url)  # another replica hears the same news
    try:
        parts = h.bot.parts
        replica = FollowedCancels(other, parts.slack, parts.tokens)
        assert (
            await replica.apply_status(h.slack.team_id, PID, "FAILED", "publish_cancelled") is True
        )
    finally:
        other.close()
    assert len(dms_to(h, "U1")) == 1


async def test_of_two_replicas_claiming_the_same_dm_exactly_one_wins(hf):
    h = hf
    await cancelled_by_u1(h)
    other = Store(h.settings.store_url)  # a second replica's own connection
    try:
        stores = [h.bot.parts.store, other, h.bot.parts.store]
        claims = [
            await s.run(followed.claim_telling, h.slack.team_id, PID, "", "publish_cancelled")
            for s in stores
        ]
        assert claims == [True, False, False]
        # a new ending (after the one told) is claimed once again
        assert (
            await other.run(followed.claim_telling, h.slack.team_id, PID, "publish_cancelled", "x")
            is True
        )
    finally:
        other.close()


async def test_a_cancel_tiktok_refused_starts_nothing_to_follow(hf):
    h = hf
    h.tiktok.script_error("cancel", 400, "invalid_params")
    answer = text_of(await h.command(PID))
    assert "by direct message" not in answer
    await settle(h)
    assert db_rows(h, "SELECT * FROM followed_cancels") == []


# --- a second request while it is followed ---------------------------------------------------


async def test_a_second_request_makes_no_call_and_names_who_will_hear(hf):
    h = hf
    await cancelled_by_u1(h)
    answer = await h.command(PID, user_id="U2")
    assert len(h.tiktok.calls_to("cancel")) == 1
    text = text_of(answer)
    assert f"TikTok is already stopping {NAME}." in text
    assert "<@U1> asked TikTok to cancel it and TikTok said it would try" in text
    assert "we'll tell <@U1> by direct message when TikTok confirms" in text
    assert_valid(answer)
    await settle(h)
    assert followed_row(h)["user_id"] == "U1", "U2's request changes nothing"

    h.tiktok.cancel_outcome(PID)
    await signed_webhook(
        h, "post.publish.failed", {"publish_id": PID, "reason": "publish_cancelled"}
    )
    answer = text_of(await h.command(PID, user_id="U2"))
    assert f"Nothing to cancel: {NAME} had already finished at TikTok." in answer
    assert f"*What TikTok told us:* Upload `{PID}` was cancelled, so it won't be posted." in answer
    assert len(h.tiktok.calls_to("cancel")) == 1


# --- status knows about a pending cancel -----------------------------------------------------


async def test_status_of_an_unannounced_upload_with_a_pending_cancel(hf):
    h = hf
    before = await h.command(f"status {PID}", user_id="U2")  # no cancel asked yet
    assert "it will post (or land in the creator's inbox) unless someone stops it" in text_of(
        before
    )
    assert [b["action_id"] for b in buttons(before)] == ["cancel_upload"]

    await cancelled_by_u1(h)
    answer = await h.command(f"status {PID}", user_id="U1")
    text = text_of(answer)
    assert f"A cancel of {NAME} asked <!date^" in text
    assert "is pending; TikTok hasn't confirmed it." in text
    assert "<@U1> asked TikTok to cancel it and TikTok said it would try." in text
    assert (
        "*Still running:* stopping \u2014 we'll tell you by direct message when TikTok confirms"
    ) in text
    assert "unless someone stops it" not in text
    assert buttons(answer) == [], "no Cancel button: TikTok is already stopping it"
    assert_valid(answer)

    other = text_of(await h.command(f"status {PID}", user_id="U2"))
    assert "we'll tell <@U1> by direct message when TikTok confirms" in other

    h.tiktok.cancel_outcome(PID)  # once TikTok has said, status says what it said
    after = text_of(await h.command(f"status {PID}", user_id="U1"))
    assert f"Upload `{PID}` was cancelled, so it won't be posted." in after
    assert "pending" not in after


async def test_status_of_an_announced_upload_with_a_pending_cancel(hf):
    h = hf
    await announce(h, publish_id=PID, title="Spring teaser")
    await h.click("cancel_upload", PID)
    await settle(h)
    answer = await h.command(f"status {PID}", user_id="U2")
    text = text_of(answer)
    assert "A cancel of \u201cSpring teaser\u201d asked <!date^" in text
    assert "is pending; TikTok hasn't confirmed it." in text
    assert "<@U1> asked TikTok to cancel it" in text
    assert (
        "*Still running:* stopping \u2014 we'll confirm on the announcement and in its thread "
        "when TikTok does"
    ) in text
    assert buttons(answer) == []
    assert_valid(answer)
    assert db_rows(h, "SELECT * FROM followed_cancels") == [], "the announcement follows it"


# --- the App Home's history follows each cancel to its ending --------------------------------


def history_line(view: dict, publish_id: str) -> str:
    return next(line for line in view_text(view).splitlines() if publish_id in line)


async def test_home_history_reads_how_each_cancel_ended(hf):
    h = hf
    h.tiktok.add_upload(PID2, open_id="open-1")
    await announce(h, publish_id=PID2, title="Spring teaser")
    await cancelled_by_u1(h)  # unannounced
    await h.click("cancel_upload", PID2)  # announced
    await settle(h)
    await h.command(PID, user_id="U2")  # already stopping

    view = await open_home(h, "U1")
    assert history_line(view, PID).endswith(": TikTok is stopping it.")
    assert history_line(view, PID2).endswith(": TikTok is stopping it.")

    h.tiktok.cancel_outcome(PID, "PUBLISH_COMPLETE")
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID}) == 200
    h.tiktok.cancel_outcome(PID2)
    cancelled = {"publish_id": PID2, "reason": "publish_cancelled"}
    assert await signed_webhook(h, "post.publish.failed", cancelled) == 200
    assert len(thread_posts(h)) >= 2

    view = await open_home(h, "U1")
    assert history_line(view, PID).endswith(
        ": It was posted on TikTok even though you asked to cancel it."
    )
    assert history_line(view, PID2).endswith(": It was cancelled, so it won't be posted.")
    assert "stopping" not in view_text(view).lower()
    theirs = await open_home(h, "U2")
    assert history_line(theirs, PID).endswith(
        ": It was posted on TikTok even though <@U1> asked to cancel it."
    )


async def test_home_history_says_when_tiktok_never_said(hf):
    h = hf
    await cancelled_by_u1(h)
    db_execute(h, "UPDATE followed_cancels SET asked_at = ?", time.time() - 3 * 3600)
    make_due(h)
    await h.bot.parts.poller.poll_due()
    line = history_line(await open_home(h, "U1"), PID)
    assert line.endswith(
        f": TikTok said it would try, but hasn't said how that ended; {STATUS_CMD} checks now."
    )


# --- the DMs at their limits -----------------------------------------------------------------

LONG_ID = "v_pub_url~v2." + "9" * 243  # 256 characters
HOSTILE = ("&<>" * 40 + "\U0001f389 <!channel> https://evil.example/login ")[:64]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("FAILED", "publish_cancelled"),
        ("FAILED", "brand_new_reason"),
        ("FAILED", ""),
        ("PUBLISH_COMPLETE", ""),
        ("SEND_TO_USER_INBOX", ""),
        ("PROCESSING_DOWNLOAD", ""),
    ],
)
def test_the_dms_at_their_limits_are_valid_and_escaped(status, reason):
    f = FollowedCancel(
        publish_id=LONG_ID + "<!channel>&",
        team_id="T1",
        user_id="U1",
        link_kind="user",
        link_owner="U1",
        asked_at=1_796_000_000.0,
        account=HOSTILE,
        status=status,
        fail_reason=reason,
        final=status != "PROCESSING_DOWNLOAD",
        final_at=1_796_000_600.0,
    )
    sent = [cancel_ending_dm(FollowedView.of(f))] if f.final else []
    for message in [*sent, cancel_unknown_dm(FollowedView.of(f))]:
        assert_valid(message)
        dumped = json.dumps(message)
        assert "<!channel>" not in dumped
        assert "<https://" not in dumped


@pytest.mark.parametrize(
    "ending",
    [
        {"ending_status": "PUBLISH_COMPLETE", "ending_final": 1, "ending_cancel_by": "U2"},
        {"ending_status": "FAILED", "ending_fail_reason": "x" * 256, "ending_final": 1},
        {"ending_status": "", "ending_final": 0, "ending_next_poll_at": None},
    ],
)
def test_the_home_history_at_its_limits_is_a_valid_view(ending):
    rows = [
        {
            "action": "cancel",
            "outcome": outcome_code,
            "state": "finished",
            "user_id": "U1",
            "publish_id": LONG_ID,
            "account": HOSTILE,
            "started_at": "2026-11-30T01:02:03.000Z",
            "ending_poll_count": 9,
            **ending,
        }
        for outcome_code in ("ok", "already_stopping")
    ] * 5
    view = home_view(None, "", False, [], [], rows, time.time())
    View(**view).validate_json()
    for block in view["blocks"]:
        Block.parse(block).validate_json()
    assert "<!channel>" not in json.dumps(view)
