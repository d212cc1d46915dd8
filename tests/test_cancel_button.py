"""The Cancel upload button on an announcement: one cancel, the update in place, the thread."""

from __future__ import annotations

from tests.conftest import NOTIFY, buttons, text_of
from tests.upload_helpers import (
    PID,
    PID2,
    announce,
    cancel_rows,
    make_due,
    overlapping,
    settle,
    stored,
    thread_posts,
    top_posts,
    updates,
    wait_until,
)

# --- the Cancel upload button ----------------------------------------------------------------


async def test_click_threads_who_when_outcome_and_log_id(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h, title="Spring teaser")
    answer = await h.click("cancel_upload", PID)
    assert answer.get("response_type") == "ephemeral"
    await wait_until(lambda: thread_posts(h, first["ts"]) and updates(h, first["ts"]))
    (reply,) = thread_posts(h, first["ts"])
    assert reply.params["channel"] == "C1"
    text = text_of(reply.params)
    (row,) = cancel_rows(h)
    assert row["source"] == "button" and row["outcome"] == "ok" and row["state"] == "finished"
    assert "<@U1>" in text
    assert "<!date^" in text
    assert "TikTok is stopping \u201cSpring teaser\u201d." in text
    assert "*Still running:* stopping \u2014 we'll confirm here when TikTok does" in text
    assert row["log_id"] and row["log_id"] in text
    update = updates(h, first["ts"])[-1]
    assert buttons(update.params) == []
    assert "*Stopping* \u2014 <@U1> asked TikTok to cancel it <!date^" in text_of(update.params)
    assert "we'll confirm here." in text_of(update.params)
    row = stored(h)
    assert (row["final"], row["cancel_by"]) == (0, "U1"), "TikTok's ok is not its final word"


async def test_failed_click_keeps_the_button_and_tells_the_clicker(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    answer = await h.click("cancel_upload", PID)
    assert answer.get("response_type") == "ephemeral"
    assert "Couldn't cancel" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]) and thread_posts(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert [b["action_id"] for b in buttons(update)] == ["cancel_upload"]
    assert "<@U1>" in text_of(update) and "Couldn't cancel" in text_of(update)
    assert "Couldn't cancel" in text_of(thread_posts(h, first["ts"])[0].params)
    assert h.last_audit()["outcome"] == "internal_error"
    assert stored(h)["final"] == 0


async def test_click_with_an_account_that_did_not_start_it_keeps_the_button(hn):
    h = hn
    await h.link()
    h.tiktok.add_user("open-2", "Other")
    h.tiktok.add_upload(PID, open_id="open-2")
    first = await announce(h)
    answer = await h.click("cancel_upload", PID)
    assert "didn't start this upload" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert [b["action_id"] for b in buttons(update)] == ["cancel_upload"]
    assert h.last_audit()["outcome"] == "token_not_authorized_for_specified_publish_id"


async def test_publish_not_cancellable_removes_the_button(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID, cancellable=False)
    first = await announce(h)
    answer = await h.click("cancel_upload", PID)
    assert "already finished" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]))
    assert buttons(updates(h, first["ts"])[0].params) == []
    await settle(h)
    for update in updates(h, first["ts"]):
        assert buttons(update.params) == []


async def test_two_concurrent_clicks_make_one_tiktok_call(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    answers = await overlapping(
        h, h.click("cancel_upload", PID), h.click("cancel_upload", PID, user_id="U2")
    )
    assert len(h.tiktok.calls_to("cancel")) == 1
    texts = [text_of(a) for a in answers]
    assert "TikTok is stopping" in texts[0]
    assert "under way" in texts[1]
    await settle(h)
    assert sorted(r["outcome"] for r in cancel_rows(h)) == ["in_flight", "ok"]
    assert len(thread_posts(h, first["ts"])) >= 1
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_two_clicks_while_slack_is_slow_make_one_tiktok_call_and_tell_the_truth(hn):
    """Slack is slow with chat.update (held until the test lets it answer) while the
    announcement is showing TikTok's latest status. U1 presses Cancel, TikTok says ok; then U2
    presses it before the announcement could be updated. The first cancel's outcome was on
    the record before its claim was given back, so TikTok hears one cancel and U2 is told
    TikTok is already stopping it (not that TikTok had finished with it)."""
    h = hn
    await h.restart(notify_token=NOTIFY, admin_users=frozenset({"UADMIN"}))
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")
    await h.command("team grant brand <@U1> <@U2>", user_id="UADMIN")
    h.tiktok.add_upload(PID, open_id="open-brand")
    first = await announce(h, title="Spring teaser", account="brand")
    slow = h.slack.hold("chat.update", ts=first["ts"])
    make_due(h)  # the poller fetches the status now, and shows it: Slack is slow to take it
    h.bot.parts.poller.wake()
    await slow.wait_arrived(timeout=10)
    try:
        one = text_of(await h.click("cancel_upload", PID, user_id="U1"))
        two = text_of(await h.click("cancel_upload", PID, user_id="U2"))
    finally:
        slow.release()
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert "TikTok is stopping \u201cSpring teaser\u201d." in one, one
    assert "TikTok is already stopping \u201cSpring teaser\u201d." in two, two
    assert "<@U1> asked TikTok to cancel it" in two, two
    assert "finished" not in two, two
    await settle(h)
    rows = {r["user_id"]: (r["state"], r["outcome"]) for r in cancel_rows(h)}
    assert rows == {"U1": ("finished", "ok"), "U2": ("finished", "already_stopping")}
    row = stored(h)
    assert (row["cancel_by"], row["last_user_id"], row["last_code"]) == ("U1", "U1", "ok")
    # once Slack answers, the announcement catches up with the record
    await wait_until(
        lambda: (
            "*Stopping* \u2014 <@U1> asked TikTok to cancel it"
            in text_of(updates(h, first["ts"])[-1].params)
        )
    )
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_click_and_command_together_make_one_tiktok_call(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    await announce(h)
    await overlapping(h, h.click("cancel_upload", PID), h.command(PID))
    assert len(h.tiktok.calls_to("cancel")) == 1
    await settle(h)
    assert sorted(r["outcome"] for r in cancel_rows(h)) == ["in_flight", "ok"]


async def test_command_on_an_announced_upload_threads_and_updates_too(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.command(f"{PID} wrong video")
    await wait_until(lambda: thread_posts(h, first["ts"]) and updates(h, first["ts"]))
    reply = text_of(thread_posts(h, first["ts"])[0].params)
    assert "wrong video" in reply and "<@U1>" in reply
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_slack_failure_on_the_thread_reply_keeps_the_audit_row_finished(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.slack.fail("chat.postMessage", error="internal_error")
    answer = await h.click("cancel_upload", PID)
    assert "TikTok is stopping" in text_of(answer)
    await settle(h)
    (row,) = cancel_rows(h)
    assert (row["state"], row["outcome"], row["publish_id"]) == ("finished", "ok", PID)
    assert row["finished_at"]
    assert (stored(h)["final"], stored(h)["cancel_by"]) == (0, "U1")
    await wait_until(lambda: updates(h, first["ts"]), what="the announcement update")


async def test_slack_5xx_on_the_thread_reply_still_updates_the_announcement(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.slack.fail_http("chat.postMessage", status=502)  # non-JSON, as a proxy answers
    answer = await h.click("cancel_upload", PID)
    assert "TikTok is stopping" in text_of(answer)
    await settle(h)
    (row,) = cancel_rows(h)
    assert (row["state"], row["outcome"]) == ("finished", "ok")
    assert updates(h, first["ts"]), "the announcement kept its Cancel button after a cancel"
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_unannounced_upload_goes_to_the_audit_channel_not_a_thread(h):
    await h.restart(notify_token=NOTIFY, audit_channel="CAUDIT")
    await h.link()
    h.tiktok.add_upload(PID2)
    await h.command(PID2)
    await wait_until(lambda: top_posts(h, "CAUDIT"), what="audit channel post")
    (post,) = top_posts(h, "CAUDIT")
    assert not post.params.get("thread_ts")
    assert PID2 in text_of(post.params) and "<@U1>" in text_of(post.params)
    assert thread_posts(h) == []
    assert h.slack.calls_to("chat.update") == []


async def test_announced_upload_with_audit_channel_goes_to_the_thread_only(h):
    await h.restart(notify_token=NOTIFY, audit_channel="CAUDIT")
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await settle(h)
    assert len(thread_posts(h, first["ts"])) == 1
    assert top_posts(h, "CAUDIT") == []


async def test_an_attempt_that_never_reached_tiktok_stays_out_of_the_channel(hn):
    h = hn
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    body = await announce(h, title="Teaser")
    # U2 has no link: answered, audited, and nothing is posted in the thread
    answer = await h.click("cancel_upload", PID, user_id="U2")
    assert "you haven't linked a TikTok account yet" in text_of(answer)
    audit = [r for r in h.audit_rows() if r["user_id"] == "U2"]
    assert [(r["action"], r["outcome"]) for r in audit] == [("cancel", "not_linked")]
    # a later attempt that reached TikTok: its entry is the thread's first and only one
    await h.click("cancel_upload", PID, user_id="U1")
    await settle(h)
    posts = thread_posts(h, body["ts"])
    assert len(posts) == 1, [p.params for p in posts]
    assert "<@U1>" in text_of(posts[0].params)
    assert "<@U2>" not in text_of(posts[0].params)
