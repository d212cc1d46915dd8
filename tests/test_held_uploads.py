"""Held uploads (POST /uploads): announced with Cancel / Start now, started by the bot with one
Direct Post init when the window closes, over HTTP against the Slack and TikTok stand-ins."""

from __future__ import annotations

import asyncio
import time

import pytest

from sandbox.fakes.server import Reply
from tests.conftest import NOTIFY, UPLOAD, buttons, db_execute, db_rows, text_of
from tests.held_helpers import (
    ADMIN,
    BOB,
    EVE,
    SOURCE,
    assert_valid_blocks,
    body,
    held_harness,
    inits,
    msg,
    next_scheduler_pass,
    row,
    submit,
    until,
)
from tests.upload_helpers import thread_posts, top_posts, updates


@pytest.fixture
async def hb(h):
    return await held_harness(h)


async def test_announced_then_cancelled_in_window_never_calls_init(hb):
    status, answer = await submit(hb, body(hold_s=2))
    assert status == 202
    assert set(answer) == {"upload_key", "channel", "ts", "starts_at"}
    assert answer["upload_key"] == "run-1" and answer["channel"] == "C1"
    (post,) = top_posts(hb)
    message = msg(post)
    assert_valid_blocks(message)
    shown = text_of(message)
    assert "\u201cSpring teaser\u201d goes to TikTok as Brand Social TT" in shown
    assert "Public" in shown and "<!date^" in shown
    assert "^{date_short_pretty} at {time} ({ago})|" in shown  # "... (in 1 minute)"
    ids = [b["action_id"] for b in buttons(message)]
    assert ids == ["cancel_held", "start_held"]
    assert [b["confirm"]["style"] for b in buttons(message)] == ["danger", "primary"]
    assert [b["value"] for b in buttons(message)] == ["run-1", "run-1"]

    reply = await hb.click("cancel_held", "run-1", user_id=BOB)
    assert "never sent to TikTok" in text_of(reply)
    # the window closes (moved to now) and the scheduler has looked again since: no init
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time(), "run-1"
    )
    await next_scheduler_pass(hb)
    assert inits(hb) == []
    stored = row(hb)
    assert stored["state"] == "cancelled" and stored["by_user"] == BOB
    audit = [r for r in hb.audit_rows() if r["action"] == "cancel_held"]
    assert len(audit) == 1 and audit[0]["user_id"] == BOB and audit[0]["outcome"] == "held_back"
    (thread,) = thread_posts(hb, answer["ts"])
    assert f"<@{BOB}> cancelled" in thread.params["text"]
    last = updates(hb, answer["ts"])[-1]
    assert "held back and never sent to TikTok" in last.params["text"]
    assert_valid_blocks(msg(last)) and buttons(msg(last)) == []


async def test_window_closes_one_init_with_the_post_and_token(hb):
    status, answer = await submit(hb, body(hold_s=0.5, disable_duet=True))
    assert status == 202
    await until(lambda: row(hb)["state"] == "started")
    (call,) = inits(hb)
    assert call.body == {
        "post_info": {
            "title": "Spring teaser",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_duet": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        },
        "source_info": {"source": "PULL_FROM_URL", "video_url": SOURCE},
    }
    assert hb.tiktok.grant_for(call.token).open_id == "open-brand"
    publish_id = row(hb)["publish_id"]
    assert publish_id == "v_pub_url~v2-1.7000001"
    # The row says "started" as soon as TikTok answered; the announcement, its update, the
    # thread reply and the audit's finish follow in their own steps: wait for each.
    announced_sql = "SELECT * FROM announcements WHERE publish_id = ?"
    await until(lambda: db_rows(hb, announced_sql, publish_id) != [])
    (announced,) = db_rows(hb, announced_sql, publish_id)
    assert announced["ts"] == answer["ts"] and announced["account"] == "brand"
    await until(lambda: any(publish_id in text_of_call(c) for c in updates(hb, answer["ts"])))
    last = updates(hb, answer["ts"])[-1]
    message = msg(last)
    assert_valid_blocks(message)
    assert "cancel_upload" in [b["action_id"] for b in buttons(message)]
    await until(lambda: any("accepted" in c.params["text"] for c in thread_posts(hb, answer["ts"])))
    assert any("accepted" in c.params["text"] for c in thread_posts(hb, answer["ts"]))
    await until(
        lambda: [r["state"] for r in hb.audit_rows() if r["action"] == "start_held"] == ["finished"]
    )
    started = [r for r in hb.audit_rows() if r["action"] == "start_held"]
    assert [(r["outcome"], r["publish_id"], r["state"]) for r in started] == [
        ("ok", publish_id, "finished")
    ]


def text_of_call(call) -> str:
    return text_of(msg(call))


async def test_start_now_starts_once(hb):
    await submit(hb, body(hold_s=600))
    reply = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert "Started: TikTok accepted" in text_of(reply)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "started" and row(hb)["by_user"] == ADMIN
    again = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert "Nothing changed" in text_of(again)
    cancel = await hb.click("cancel_held", "run-1", user_id=ADMIN)
    assert "Nothing changed" in text_of(cancel)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "started"


async def test_repeated_upload_key_answers_the_first(hb):
    status, first = await submit(hb, body(hold_s=600))
    status2, second = await submit(hb, body(hold_s=5, title_changed=None))
    assert (status, status2) == (202, 200)
    assert second == first
    assert len(top_posts(hb)) == 1
    assert len(db_rows(hb, "SELECT * FROM held_uploads")) == 1


async def test_init_that_never_answers_is_unknown_and_never_retried(hb):
    hb.tiktok.script("init", Reply(hang=True))
    status, answer = await submit(hb, body(hold_s=0))
    assert status == 202
    await until(lambda: row(hb)["state"] == "unknown", timeout=10)
    assert len(inits(hb)) == 1
    assert row(hb)["code"] == "timeout"
    # the row moves first, then the message and its thread reply are posted
    await until(lambda: len(thread_posts(hb, answer["ts"])) == 1)
    (thread,) = thread_posts(hb, answer["ts"])
    assert "TikTok may have started" in thread.params["text"]
    last = updates(hb, answer["ts"])[-1]
    assert "open the TikTok app as Brand Social TT" in text_of_call(last)
    assert_valid_blocks(msg(last)) and buttons(msg(last)) == []
    await hb.restart()
    await next_scheduler_pass(hb)  # the new process has looked at it: nothing to start
    assert len(inits(hb)) == 1 and row(hb)["state"] == "unknown"


async def test_a_5xx_from_init_is_unknown_not_retried(hb):
    hb.tiktok.script_error("init", 500, "internal_error")
    await submit(hb, body(hold_s=0))
    await until(lambda: row(hb)["state"] == "unknown")
    await next_scheduler_pass(hb)
    assert len(inits(hb)) == 1


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("privacy_level_option_mismatch", "isn't one this account offers"),
        ("unaudited_client_can_only_post_to_private_accounts", "only post to private accounts"),
        ("url_ownership_unverified", "website the video comes from"),
        ("spam_risk_too_many_posts", "too many times"),
        ("spam_risk_user_banned_from_posting", "blocked this account"),
        ("reached_active_user_cap", ""),
    ],
)
async def test_each_refusal_is_explained(hb, code, words):
    hb.tiktok.script_error("init", 403, code)
    status, answer = await submit(hb, body(hold_s=0))
    assert status == 202
    await until(lambda: row(hb)["state"] == "refused")
    await next_scheduler_pass(hb)
    assert len(inits(hb)) == 1 and row(hb)["code"] == code
    (thread,) = thread_posts(hb, answer["ts"])
    said = text_of_call(thread)
    assert words in said
    assert "nothing was posted" in said and code in said
    last = updates(hb, answer["ts"])[-1]
    assert_valid_blocks(msg(last))
    assert "nothing was posted" in text_of_call(last)


async def test_only_granted_people_or_admins_may_press(hb):
    await submit(hb, body(hold_s=600))
    for action in ("cancel_held", "start_held"):
        reply = await hb.click(action, "run-1", user_id=EVE)
        said = text_of(reply)
        assert "Only people granted the team account brand" in said
        assert (
            f"*Next step:* ask <@{ADMIN}>, or any workspace admin or owner, to grant you brand."
        ) in said
    assert row(hb)["state"] == "held" and inits(hb) == []
    assert [r for r in hb.audit_rows() if r["action"] in ("cancel_held", "start_held")] == []


async def test_window_missed_while_down_asks_instead_of_posting(hb):
    status, answer = await submit(hb, body(hold_s=60))
    assert status == 202
    await hb.stop()
    # The bot was down from before the window closed until 100 s after: longer than 60 s.
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time() - 100, "run-1"
    )
    await hb.start()
    await until(lambda: row(hb)["state"] == "asking")
    await next_scheduler_pass(hb)
    assert inits(hb) == []
    (thread,) = thread_posts(hb, answer["ts"])
    ask = msg(thread)
    assert_valid_blocks(ask)
    assert "was not started: the bot was down" in text_of(ask)
    assert [b["action_id"] for b in buttons(ask)] == ["cancel_held", "start_held"]
    reply = await hb.click("start_held", "run-1", user_id=BOB)
    assert "Started" in text_of(reply) and len(inits(hb)) == 1


async def test_window_missed_by_less_than_its_length_starts(hb):
    await submit(hb, body(hold_s=600))
    await hb.stop()
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time() - 40, "run-1"
    )
    await hb.start()
    await until(lambda: row(hb)["state"] == "started")
    assert len(inits(hb)) == 1


async def test_refused_submissions(hb):
    assert (await submit(hb, body(), token="wrong"))[0] == 401
    hb.tiktok.creator_for("open-brand").privacy_level_options = ["SELF_ONLY"]
    status, answer = await submit(hb, body())
    assert status == 400 and "PUBLIC_TO_EVERYONE is not offered" in answer["error"]
    hb.tiktok.creator_for("open-brand").privacy_level_options = ["PUBLIC_TO_EVERYONE"]
    hb.tiktok.creator_for("open-brand").max_video_post_duration_sec = 30
    status, answer = await submit(hb, body())
    assert status == 400 and "at most 30 s" in answer["error"]
    status, answer = await submit(hb, {**body(), "account": "nobody"})
    assert status == 400 and "unknown account nobody" in answer["error"]
    status, answer = await submit(hb, {**body(), "source_url": "http://x.example/v.mp4"})
    assert status == 400 and "https://" in answer["error"]
    status, answer = await submit(hb, {**body(), "post": {"title": "x"}})
    assert status == 400 and "privacy_level" in answer["error"]
    assert top_posts(hb) == [] and db_rows(hb, "SELECT * FROM held_uploads") == []
    assert inits(hb) == []


async def test_uploads_404_while_upload_token_unset(h):
    await h.restart(notify_token=NOTIFY)  # NOTIFY_TOKEN alone does not open POST /uploads
    assert (await submit(h, body()))[0] == 404
    assert (await submit(h, body(), token=NOTIFY))[0] == 404


async def test_two_starters_at_once_make_one_init(hb):
    """A click and the scheduler (or two replicas) racing: one conditional update wins."""
    await submit(hb, body(hold_s=600))
    held = hb.bot.parts.held
    results = await asyncio.gather(
        *(held.start(hb.slack.team_id, "run-1", ADMIN) for _ in range(5))
    )
    assert sum(r is not None for r in results) == 1
    assert len(inits(hb)) == 1 and row(hb)["state"] == "started"


async def test_restart_mid_start_never_starts_again(hb):
    """A restart while the init is on its way: the row left `starting` (then `unknown`), and
    no second init, before or after the restart."""
    hb.tiktok.script("init", Reply(hang=True))
    await submit(hb, body(hold_s=0))
    await until(lambda: len(inits(hb)) == 1)
    assert row(hb)["state"] == "starting"
    await hb.restart()
    await next_scheduler_pass(hb)
    assert len(inits(hb)) == 1 and row(hb)["state"] in ("starting", "unknown")
    (attempt,) = [r for r in hb.audit_rows() if r["action"] == "start_held"]
    assert attempt["reason"] == "held upload run-1"  # written before TikTok was called


async def test_a_start_whose_process_died_mid_call_is_said_unknown(hb):
    """A row left `starting` by a process killed mid-init: said unknown, never re-sent."""
    status, answer = await submit(hb, body(hold_s=600))
    await hb.stop()
    db_execute(
        hb,
        "UPDATE held_uploads SET state = 'starting', updated_at = ? WHERE upload_key = ?",
        time.time() - 5,
        "run-1",
    )
    await hb.start(held_stale_starting_s=1.0)
    await until(lambda: row(hb)["state"] == "unknown")
    assert row(hb)["code"] == "interrupted" and inits(hb) == []
    (thread,) = thread_posts(hb, answer["ts"])
    assert "TikTok may have started" in thread.params["text"]


async def test_a_post_slack_refuses_gives_the_upload_key_back(hb):
    """The upload_key is claimed (stored) before its announcement is posted; when Slack
    refuses the post, the claim is given back, so the pipeline can fix it and send it again."""
    hb.slack.fail("chat.postMessage", "channel_not_found")
    status, said = await submit(hb, body(hold_s=600))
    assert status == 404 and "Slack can't find channel C1" in said["error"], said
    assert db_rows(hb, "SELECT * FROM held_uploads") == []
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202, answer
    assert row(hb)["state"] == "held" and row(hb)["ts"] == answer["ts"]
    assert len(top_posts(hb)) == 2  # the refused one and the one Slack took


async def test_a_claim_left_posting_by_a_dead_process_is_forgotten_and_can_be_sent_again(hb):
    """A process died while Slack was taking the announcement: its claim stays `posting`
    (never started) until it is 15 minutes old by the database's clock, then the scheduler
    forgets it and the pipeline's repeat is announced."""
    long_ago = time.time() - 16 * 60
    db_execute(
        hb,
        "INSERT INTO held_uploads (upload_key, team_id, channel, account, source_url, post, "
        "hold_s, created_at, starts_at, state, updated_at) "
        "VALUES ('run-1', 'T0001', 'C1', 'brand', ?, '{}', 0, ?, ?, 'posting', ?)",
        SOURCE,
        long_ago,
        long_ago,
        long_ago,
    )
    await until(lambda: db_rows(hb, "SELECT * FROM held_uploads") == [])
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202, answer
    assert inits(hb) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"upload_key": 5}',
        b'{"upload_key": "k", "channel": "C1", "account": "brand", "source_url": '
        b'"https://x.example/v.mp4", "post": {"privacy_level": "SELF_ONLY"}, "hold_s": -1}',
        b'{"upload_key": "k", "channel": "C1", "account": "brand", "source_url": '
        b'"https://x.example/v.mp4", "post": {"privacy_level": "SELF_ONLY"}, "hold_s": 1e400}',
        b'{"upload_key": "k", "channel": "C1", "account": "brand", "source_url": '
        b'"https://x.example/v.mp4", "post": {"privacy_level": "SELF_ONLY", "is_aigc": "yes"}}',
        b'{"upload_key": "k", "channel": "C1", "account": "brand", "source_url": '
        b'"https://x.example/v.mp4", "post": {"privacy_level": "SELF_ONLY"}, "video": []}',
        b"\xff\xfe",
    ],
)
async def test_bad_bodies_get_400_and_nothing_is_posted(hb, raw):
    headers = {"Authorization": f"Bearer {UPLOAD}"}
    async with hb.session.post(hb.url + "/uploads", data=raw, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]
    assert top_posts(hb) == [] and db_rows(hb, "SELECT * FROM held_uploads") == []


async def test_init_refused_with_401_is_retried_once_after_a_refresh(hb):
    """401 access_token_invalid is a definite refusal (nothing started): refresh, ask again."""
    hb.tiktok.script_error("init", 401, "access_token_invalid")
    await submit(hb, body(hold_s=0))
    await until(lambda: row(hb)["state"] == "started")
    first, second = inits(hb)
    assert first.status == 401 and second.status == 200 and first.token != second.token
    assert hb.tiktok.refresh_count == 1


# --- a start that failed before TikTok took the video, for a reason that passes -----------


async def test_a_garbled_creator_info_at_the_start_sends_no_init_and_start_now_may_retry(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    hb.tiktok.script("creator_info", Reply(200, body="<html>oops</html>", content_type="text/html"))
    reply = await hb.click("start_held", "run-1", user_id=BOB)
    said = text_of(reply)
    assert "\u201cSpring teaser\u201d was not started: TikTok's reply was garbled." in said
    assert "*Next step:* Press Start now to try again (a minute is usually enough)" in said
    assert inits(hb) == [] and row(hb)["state"] == "retry" and row(hb)["code"] == "bad_response"
    last = msg(updates(hb, answer["ts"])[-1])
    assert_valid_blocks(last)
    shown = text_of(last)
    assert "*Still running:* no \u2014 nothing was posted; Start now to try again" in shown
    assert "*Next step:* Press Start now to try again" in shown
    assert [b["action_id"] for b in buttons(last)] == ["cancel_held", "start_held"]
    (thread,) = thread_posts(hb, answer["ts"])
    assert "was not started: TikTok's reply was garbled" in text_of_call(thread)
    listed = text_of(await hb.command("list", user_id=BOB))
    assert (
        "Not started: TikTok's reply was garbled.\n"
        "*Still running:* no \u2014 nothing was posted; Start now to try again"
    ) in listed

    again = await hb.click("start_held", "run-1", user_id=BOB)  # TikTok answers again
    assert "Started: TikTok accepted" in text_of(again)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "started"
    attempts = [r for r in hb.audit_rows() if r["action"] == "start_held"]
    assert [(r["state"], r["outcome"], r["publish_id"] or "") for r in attempts] == [
        ("finished", "bad_response", ""),
        ("finished", "ok", row(hb)["publish_id"]),
    ]


async def test_an_init_refused_as_too_many_requests_may_be_started_again(hb):
    await submit(hb, body(hold_s=600))
    hb.tiktok.script_error("init", 429, "rate_limit_exceeded")
    reply = await hb.click("start_held", "run-1", user_id=BOB)
    assert "too many requests" in text_of(reply)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "retry"
    assert db_rows(hb, "SELECT * FROM announcements") == []  # no publish_id: nothing to follow
    cancel = await hb.click("cancel_held", "run-1", user_id=BOB)  # Cancel still works
    assert "was never sent to TikTok" in text_of(cancel) or "Cancelled" in text_of(cancel)
    assert row(hb)["state"] == "cancelled" and len(inits(hb)) == 1


async def test_a_refused_start_names_a_next_step_for_the_pipeline_not_the_command(hb):
    hb.tiktok.script_error("init", 403, "url_ownership_unverified")
    status, answer = await submit(hb, body(hold_s=0))
    assert status == 202
    await until(lambda: row(hb)["state"] == "refused" and thread_posts(hb, answer["ts"]))
    said = text_of_call(thread_posts(hb, answer["ts"])[-1])
    assert (
        f"*Next step:* Ask an admin (<@{ADMIN}>) to verify the video's website (domain or URL "
        "prefix) for the bot's TikTok app in the TikTok developer portal, then have your "
        "upload pipeline send the video again with a new upload_key."
    ) in said
    assert "/tiktok-cancel status" not in said and "/tiktok-cancel run-1" not in said
    shown = text_of_call(updates(hb, answer["ts"])[-1])
    assert (
        "/tiktok-cancel status" not in shown and buttons(msg(updates(hb, answer["ts"])[-1])) == []
    )


async def test_an_init_whose_connection_is_reset_after_sending_is_unknown_never_retried(hb):
    """A reset after the request went out (ECONNRESET) is not "couldn't reach TikTok": TikTok
    may have taken the video, so Start now is gone and nothing is sent again."""
    _, answer = await submit(hb, body(hold_s=600))
    hb.tiktok.script("init", Reply(drop=True))
    reply = await hb.click("start_held", "run-1", user_id=BOB)
    assert "we don't know" in text_of(reply)
    assert len(inits(hb)) == 1 and row(hb)["state"] == "unknown"
    assert row(hb)["code"] == "bad_response"
    last = msg(updates(hb, answer["ts"])[-1])
    assert "TikTok may have started" in text_of(last) and buttons(last) == []
    again = await hb.click("start_held", "run-1", user_id=BOB)
    assert "Nothing changed" in text_of(again) and len(inits(hb)) == 1
