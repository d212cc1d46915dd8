"""The bot's process under stress: SIGTERM mid-cancel, SIGKILL mid-cancel and a restart, and
the SQLite file held by another writer.

(That an attempt of a SIGKILLed process stays `started` in `audit export` is in test_cli.py;
here is what the person can do about it after the restart.)
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time

from sandbox.fakes import Reply
from tests.conftest import buttons, text_of
from tests.faults.conftest import AUDIT_CHANNEL, BotProcess, wait_until

PID = "v_pub_url~v2.9000001"
NEXT_PID = "v_pub_url~v2.9000002"


async def linked_with_upload(bot: BotProcess, publish_id: str = PID) -> None:
    await bot.link()
    bot.tiktok.add_upload(publish_id, open_id="open-1")


async def tiktok_got_cancel(bot: BotProcess, count: int = 1) -> None:
    await wait_until(
        lambda: len(bot.tiktok.calls_to("cancel")) >= count, 10, "the cancel never reached TikTok"
    )


def home_opened_body(user_id: str) -> str:
    now = int(time.time())
    return json.dumps(
        {
            "team_id": "T0001",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{user_id}{time.monotonic_ns()}",
            "event_time": now,
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D" + user_id,
                "tab": "home",
                "event_ts": f"{now}.000100",
            },
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
    )


def view_text(view: dict) -> str:
    return "\n".join(
        b["text"]["text"] for b in view.get("blocks", []) if isinstance(b.get("text"), dict)
    )


# --- SIGTERM drains the cancel in flight ------------------------------------------------------


async def test_sigterm_waits_for_the_cancel_in_flight(bot):
    await linked_with_upload(bot)
    bot.tiktok.cancel_latency_s = 1.0
    url = await bot.send_command(f"{PID} stop it")
    await tiktok_got_cancel(bot)
    sent = time.monotonic()
    code = await bot.stop(signal.SIGTERM)
    assert code == 0, bot.log_tail()
    assert time.monotonic() - sent >= 0.5, "exited without waiting for TikTok's answer"
    # TikTok acted, the audit row is complete, and the person got the answer
    assert bot.tiktok.uploads[PID].status == "FAILED"
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"]) == ("finished", "ok")
    answers = bot.slack.responses.get(url, [])
    assert len(answers) == 1, f"no answer reached Slack before exit:\n{bot.log_tail(15)}"
    assert "TikTok is stopping" in text_of(answers[0])
    assert [m for (c, _), m in bot.slack.messages.items() if c == AUDIT_CHANNEL], (
        f"the public audit entry was dropped on shutdown:\n{bot.log_tail(15)}"
    )
    assert "bot.stopped" in bot.log_text()


async def test_sigterm_waits_until_the_answer_has_reached_slack(bot):
    """TikTok has answered, but Slack's response_url needs a second try: the person's
    answer is part of the cancel, so the shutdown waits for it too."""
    await linked_with_upload(bot)
    bot.tiktok.cancel_latency_s = 0.5
    bot.slack.fail_response(500, times=1)  # slack_sdk retries after about half a second
    url = await bot.send_command(PID)
    await tiktok_got_cancel(bot)
    assert await bot.stop(signal.SIGTERM) == 0
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"]) == ("finished", "ok")
    answers = bot.slack.responses.get(url, [])
    assert len(answers) == 1, f"the answer was dropped on shutdown:\n{bot.log_tail(12)}"
    assert "TikTok is stopping" in text_of(answers[0])


# --- SIGKILL mid-cancel, then a restart ------------------------------------------------------


async def test_after_sigkill_mid_cancel_the_person_can_ask_status_and_cancel_again(bot):
    await linked_with_upload(bot)
    bot.tiktok.script("cancel", Reply(hang=True))
    lost_url = await bot.send_command(f"{PID} mid-call")
    await tiktok_got_cancel(bot)
    await wait_until(lambda: bot.cancel_rows(PID), 5, "no started row")
    assert await bot.kill() == -signal.SIGKILL

    await bot.start()
    (unfinished,) = bot.cancel_rows(PID)
    assert (unfinished["state"], unfinished["outcome"]) == ("started", None)
    # the App Home history shows the attempt as unfinished, pointing at `status`
    status, _ = await bot.post_slack(
        home_opened_body("U1"), headers={"Content-Type": "application/json"}
    )
    assert status == 200
    await wait_until(lambda: bot.slack.calls_to("views.publish"), 10, "no Home published")
    home = view_text(bot.slack.calls_to("views.publish")[-1].params["view"])
    assert "unfinished" in home and "check with status" in home
    # status tells where the upload really is, and offers the Cancel button
    answer = await bot.command(f"status {PID}")
    assert "still downloading" in text_of(answer)
    assert [b["value"] for b in buttons(answer) if b["action_id"] == "cancel_upload"] == [PID]
    # a new cancel works and gets its own row; the unfinished one stays as it was
    assert "TikTok is stopping" in text_of(await bot.command(PID))
    rows = bot.cancel_rows(PID)
    assert [(r["state"], r["outcome"]) for r in rows] == [("started", None), ("finished", "ok")]
    assert rows[0] == unfinished
    assert bot.slack.responses.get(lost_url, []) == []  # the killed process never answered


# --- the database held by another writer --------------------------------------------------------


async def test_db_locked_by_another_writer_for_two_seconds(bot):
    await linked_with_upload(bot)
    other = sqlite3.connect(bot.db_path, timeout=5, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        url = await bot.send_command(f"{PID} while locked")  # Slack is acked regardless
        # what needs no disk still answers while the file is held
        assert "/tiktok-cancel status" in text_of(await bot.command("help"))
        await asyncio.sleep(2.0 - (time.monotonic() - locked_at))
        # the row is written before TikTok is called, so TikTok hasn't been called yet
        assert bot.tiktok.calls_to("cancel") == []
        assert bot.slack.responses.get(url, []) == []
        other.execute("COMMIT")
        released_at = time.monotonic()
    finally:
        other.close()
    answer = await bot.answer(url, timeout=15)
    assert "TikTok is stopping" in text_of(answer), text_of(answer)
    (call,) = bot.tiktok.calls_to("cancel")
    assert call.time >= released_at - 0.05
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["reason"]) == ("finished", "ok", "while locked")
    assert "database is locked" not in bot.log_text()
    # and the bot carries on
    bot.tiktok.add_upload(NEXT_PID, open_id="open-1")
    assert "TikTok is stopping" in text_of(await bot.command(NEXT_PID))
