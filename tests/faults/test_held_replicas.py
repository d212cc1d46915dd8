"""Held uploads on two replicas (two real processes) on one PostgreSQL schema: each upload's
one Direct Post init happens once, whichever replica's scheduler sees the window close and
whichever replicas the buttons are pressed on. The claim is a conditional update of the
`held_uploads` row (held → starting), so exactly one caller gets to call TikTok."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import text_of
from tests.faults.conftest import ADMIN, BotProcess, wait_until
from tests.faults.test_held_kill import link_brand
from tests.faults.test_held_kill import submit as submit_upload

pytestmark = pytest.mark.needs_postgres


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replicas A and B of one deployment on a fresh schema, started; SIGKILLed after."""
    a = BotProcess(slack, tiktok, tmp_path / "a", session, DATABASE_URL=postgres_url)
    b = a.replica(tmp_path / "b")
    await asyncio.gather(a.start(), b.start())
    await link_brand(a)
    yield a, b
    for process in (a, b):
        await process.close()


async def submit(bot: BotProcess, key: str, hold_s: float) -> dict:
    status, answer = await submit_upload(bot, hold_s, key, "Replica test")
    assert status == 202, answer
    return answer


async def press_at_once(a: BotProcess, b: BotProcess, key: str, on_a: str, on_b: str):
    """ADMIN presses `on_a` on replica A and `on_b` on B at the same moment; both answers."""
    url_a, url_b = await asyncio.gather(
        a.send_click(on_a, key, user_id=ADMIN), b.send_click(on_b, key, user_id=ADMIN)
    )
    return text_of(await a.answer(url_a)), text_of(await b.answer(url_b))


def held_row(bot: BotProcess, key: str) -> dict:
    (row,) = bot.rows("SELECT * FROM held_uploads WHERE upload_key = ?", key)
    return row


def start_rows(bot: BotProcess) -> list[dict]:
    return bot.rows("SELECT * FROM audit WHERE action = 'start_held'")


def assert_clean_logs(*bots: BotProcess) -> None:
    for bot in bots:
        assert "Traceback" not in bot.log_text(), bot.log_tail()


async def test_a_window_closing_with_both_schedulers_running_makes_one_init(replicas):
    a, b = replicas
    # Submitted through B, which wakes at once; A looks every 5 s, so within the 6 s window
    # it too sees the start time and wakes for it: both schedulers race for the one start.
    await submit(b, "run-window", hold_s=6)
    await wait_until(lambda: held_row(a, "run-window")["state"] == "started", 20, "not started")
    # both schedulers have since made a whole pass begun after that: a second init, had
    # either made one, would be in by then
    started_seen = time.time()
    for replica in (a, b):
        await replica.wait_for_pass("held.scheduler_pass", started_seen)
    assert len(a.tiktok.calls_to("init")) == 1
    row = held_row(a, "run-window")
    assert row["publish_id"] == "v_pub_url~v2-1.7000001"
    (started,) = start_rows(a)
    assert (started["state"], started["outcome"], started["publish_id"]) == (
        "finished",
        "ok",
        row["publish_id"],
    )
    # one "accepted" reply in the upload's thread, from whichever replica started it
    thread = [c for c in a.posts_to("C1") if c.params.get("thread_ts") == row["ts"]]
    assert len([c for c in thread if "accepted" in c.params.get("text", "")]) == 1
    assert_clean_logs(a, b)


async def test_start_now_pressed_on_both_replicas_at_once_makes_one_init(replicas):
    a, b = replicas
    await submit(a, "run-start", hold_s=600)
    answers = await press_at_once(a, b, "run-start", "start_held", "start_held")
    assert len(a.tiktok.calls_to("init")) == 1
    started = [t for t in answers if "Started: TikTok accepted" in t]
    unchanged = [t for t in answers if t.startswith("Nothing changed")]
    assert (len(started), len(unchanged)) == (1, 1), answers
    assert held_row(a, "run-start")["state"] == "started"
    assert len(start_rows(a)) == 1
    assert_clean_logs(a, b)


async def test_cancel_on_one_replica_and_start_now_on_the_other_one_wins(replicas):
    a, b = replicas
    await submit(a, "run-race", hold_s=600)
    cancel_said, start_said = await press_at_once(a, b, "run-race", "cancel_held", "start_held")
    state = held_row(a, "run-race")["state"]
    inits = a.tiktok.calls_to("init")
    if state == "cancelled":  # the cancel won: TikTok was never asked
        assert inits == [] and start_rows(a) == []
        assert "was never sent to TikTok" in cancel_said
        assert start_said.startswith("Nothing changed") and "already cancelled" in start_said
    else:  # the start won: one init, and the cancel changed nothing
        assert state == "started" and len(inits) == 1
        assert "Started: TikTok accepted" in start_said
        assert cancel_said.startswith("Nothing changed"), cancel_said
        held_back = a.rows("SELECT * FROM audit WHERE action = 'cancel_held'")
        assert held_back == []
    assert_clean_logs(a, b)


def announcements_posted(bot: BotProcess) -> list:
    """Top-level posts to C1 (announcements, not thread replies), answered or still held."""
    return [c for c in bot.posts_to("C1") if not c.params.get("thread_ts")]


async def test_a_replica_that_loses_the_upload_key_never_posts_a_second_announcement(replicas):
    """Slack is slow to take A's announcement (held until the test lets it answer, for longer
    than the 30 s lease that used to guard it); the pipeline sends the same upload_key to B
    meanwhile. The insert that claimed the key decides: B posts nothing and says the upload is
    being announced; once Slack answers A, a repeat gets A's answer."""
    a, b = replicas
    slow = a.slack.hold("chat.postMessage", channel="C1")
    first = asyncio.ensure_future(submit_upload(a, 600, "run-slow", "Slow Slack"))
    try:
        await slow.wait_arrived(timeout=10)
        second = asyncio.ensure_future(submit_upload(b, 600, "run-slow", "Slow Slack"))
        # B answers, or (the bug) posts an announcement of its own: whichever comes first
        await wait_until(
            lambda: second.done() or len(announcements_posted(a)) > 1,
            45,
            "B neither answered nor posted",
        )
        assert len(announcements_posted(a)) == 1, "B posted a second announcement"
        status, said = await second
        assert status == 409, said
        assert "being announced by another request" in said["error"], said
        assert held_row(a, "run-slow")["state"] == "posting"
        assert not first.done()
    finally:
        slow.release()
    status, answer = await first
    assert status == 202, answer
    assert held_row(a, "run-slow")["state"] == "held"
    again = await submit_upload(b, 600, "run-slow", "Slow Slack")
    assert again == (200, answer)
    assert len(announcements_posted(a)) == 1
    assert a.tiktok.calls_to("init") == []
    assert_clean_logs(a, b)
