"""Slack misbehaving on the way back: response_url and chat.postMessage fail or rate-limit.

A Slack failure never undoes a cancel: the audit row is finished either way, and the same
process keeps serving. Retries are slack_sdk's (2 more tries on 5xx, Retry-After on 429).
"""

from __future__ import annotations

from tests.conftest import text_of
from tests.faults.conftest import AUDIT_CHANNEL, BotProcess, wait_until

PID = "v_pub_url~v2.8000001"
NEXT_PID = "v_pub_url~v2.8000002"


async def linked_with_upload(bot: BotProcess, *publish_ids: str) -> None:
    await bot.link()  # waits for the "linked" DM, so scripted Slack failures hit what we mean
    for publish_id in publish_ids or (PID,):
        bot.tiktok.add_upload(publish_id, open_id="open-1")


def audit_messages(bot: BotProcess) -> list[dict]:
    """Messages that landed in the audit channel (posts Slack accepted)."""
    return [m for (channel, _), m in bot.slack.messages.items() if channel == AUDIT_CHANNEL]


def assert_finished_ok(bot: BotProcess, publish_id: str = PID) -> None:
    (row,) = bot.cancel_rows(publish_id)
    assert (row["state"], row["outcome"], row["attempts"]) == ("finished", "ok", 1)


# --- response_url ----------------------------------------------------------------------------


async def test_response_url_failing_once_is_retried_and_answered_once(bot):
    await linked_with_upload(bot)
    bot.slack.fail_response(500, times=1)
    url = await bot.send_command(PID)
    answer = await bot.answer(url)
    assert "TikTok is stopping" in text_of(answer)
    # a clean shutdown waits for every answer and its retries: after it, nothing more comes
    assert await bot.stop() == 0
    assert len(bot.slack.responses[url]) == 1
    assert len(bot.tiktok.calls_to("cancel")) == 1
    assert_finished_ok(bot)


async def test_response_url_failing_for_good_keeps_the_row_and_the_bot_serves(bot):
    await linked_with_upload(bot, PID, NEXT_PID)
    bot.slack.fail_response(500, times=3)  # the first try and both retries
    url = await bot.send_command(f"{PID} nobody will read this")
    await wait_until(
        lambda: "slack.respond_failed" in bot.log_text(), 15, "no slack.respond_failed logged"
    )
    assert bot.slack.responses.get(url, []) == []  # the person saw nothing in Slack...
    assert_finished_ok(bot)  # ...but the attempt is complete and audited
    assert bot.tiktok.uploads[PID].status == "FAILED"
    # the public audit entry still tells the channel what happened
    await wait_until(lambda: len(audit_messages(bot)) == 1, 10, "no audit channel post")
    assert PID in text_of(audit_messages(bot)[0])
    assert "Traceback" not in bot.log_text()
    # the same process keeps serving
    assert "/tiktok-cancel status" in text_of(await bot.command("help"))
    assert "TikTok is stopping" in text_of(await bot.command(NEXT_PID))


# --- chat.postMessage to AUDIT_CHANNEL ----------------------------------------------------------


async def test_audit_post_ratelimited_waits_retry_after_and_posts_once(bot):
    await linked_with_upload(bot)
    bot.slack.ratelimit("chat.postMessage", retry_after=1, times=1)
    assert "TikTok is stopping" in text_of(await bot.command(PID))
    await wait_until(lambda: len(bot.posts_to(AUDIT_CHANNEL)) >= 2, 10, "no retry of the post")
    limited, retried = bot.posts_to(AUDIT_CHANNEL)[:2]
    assert retried.time - limited.time >= 0.95, "Retry-After: 1 was not honoured"
    assert await bot.stop() == 0  # a clean shutdown waits for the audit posts: none after it
    assert len(bot.posts_to(AUDIT_CHANNEL)) == 2
    (posted,) = audit_messages(bot)
    assert PID in text_of(posted)
    assert_finished_ok(bot)


async def test_audit_post_failing_with_500_keeps_the_row_and_later_posts_work(bot):
    await linked_with_upload(bot, PID, NEXT_PID)
    bot.slack.fail_http("chat.postMessage", 500, times=3)  # the first try and both retries
    assert "TikTok is stopping" in text_of(await bot.command(PID))
    await wait_until(lambda: len(bot.posts_to(AUDIT_CHANNEL)) >= 3, 15, "post not retried")
    await wait_until(
        lambda: "slack.post_failed" in bot.log_text() or "listener_failed" in bot.log_text(),
        5,
        "the failed audit post was not logged",
    )
    assert audit_messages(bot) == []
    assert_finished_ok(bot)
    # the next attempt is posted as usual
    assert "TikTok is stopping" in text_of(await bot.command(NEXT_PID))
    await wait_until(lambda: len(audit_messages(bot)) == 1, 10, "no later audit post")
    assert NEXT_PID in text_of(audit_messages(bot)[0])
    assert_finished_ok(bot, NEXT_PID)
    # SlackOut's promise: a refused post is one quiet log line, not an escaped exception
    log = bot.log_text()
    assert "slack.post_failed" in log, bot.log_tail()
    assert "Traceback" not in log, bot.log_tail()


async def test_thread_reply_failing_with_500_still_updates_the_announcement(bot):
    """An announced upload: the thread reply is refused (bare HTTP 500, as a proxy answers),
    yet the announcement itself still loses its Cancel button and says who cancelled."""
    await linked_with_upload(bot)
    async with bot.session.post(
        bot.url + "/notifications",
        json={"publish_id": PID, "channel": "C1", "title": "Spring teaser"},
        headers={"Authorization": f"Bearer {bot.env['NOTIFY_TOKEN']}"},
    ) as resp:
        assert resp.status == 201
        announced = await resp.json()
    bot.slack.fail_http("chat.postMessage", 500, times=3)
    assert "TikTok is stopping" in text_of(await bot.click("cancel_upload", PID))
    assert_finished_ok(bot)
    await wait_until(lambda: len(bot.posts_to("C1")) >= 4, 15, "thread reply not retried")
    await wait_until(
        lambda: bot.slack.calls_to("chat.update"),
        3,
        lambda: f"the announcement was never updated:\n{bot.log_tail(12)}",
    )
    (update,) = bot.slack.calls_to("chat.update")
    assert update.params["ts"] == announced["ts"]
    assert "*Stopping* \u2014 <@U1> asked TikTok to cancel it" in text_of(update.params)
    assert not [b for b in update.params.get("blocks", []) if b.get("type") == "actions"]
