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

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from sandbox.fakes import Reply
from tests.conftest import buttons, text_of
from tests.faults.conftest import AUDIT_CHANNEL, BotProcess, wait_until
from tests.pg import sqlalchemy_url

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


def _epoch(value) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def cancel_claims_expired(bot: BotProcess):
    """A check: every cancel claim in the database has expired (as `wait_until` wants)."""

    def expired() -> bool:
        rows = bot.rows("SELECT expires_at FROM leases WHERE name LIKE 'cancel:%'")
        return all(_epoch(r["expires_at"]) < time.time() for r in rows)

    return expired


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
    expected = [("started", None)]
    if bot.database_url:
        # PostgreSQL may be shared by replicas, so a restart can't tell the killed process's
        # claim on the upload from a live replica's: it holds until it expires, and a cancel
        # meanwhile is told one is under way (no second TikTok call). SQLite has one process,
        # which drops every claim when it starts.
        busy = text_of(await bot.command(PID))
        assert "already under way" in busy, busy
        assert len(bot.tiktok.calls_to("cancel")) == 1
        expected.append(("finished", "in_flight"))
        await wait_until(cancel_claims_expired(bot), 30, "the dead process's claim never expired")
    # a new cancel works and gets its own row; the unfinished one stays as it was
    assert "TikTok is stopping" in text_of(await bot.command(PID))
    rows = bot.cancel_rows(PID)
    assert [(r["state"], r["outcome"]) for r in rows] == [*expected, ("finished", "ok")]
    assert rows[0] == unfinished
    assert bot.slack.responses.get(lost_url, []) == []  # the killed process never answered


# --- the database held by another writer --------------------------------------------------------


class OtherWriter:
    """Another writer holding the database: SQLite's file locked exclusively, or on PostgreSQL
    the tables a cancel writes locked in a transaction."""

    def __init__(self, bot: BotProcess):
        self.bot = bot
        self._sqlite: sqlite3.Connection | None = None
        self._pg = None

    def lock(self) -> None:
        if self.bot.database_url:
            engine = sa.create_engine(sqlalchemy_url(self.bot.database_url), poolclass=NullPool)
            self._pg = (engine, engine.connect())
            self._pg[1].begin()
            self._pg[1].execute(sa.text("LOCK TABLE leases, audit IN ACCESS EXCLUSIVE MODE"))
        else:
            self._sqlite = sqlite3.connect(self.bot.db_path, timeout=5, isolation_level=None)
            self._sqlite.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self._pg is not None:
            engine, connection = self._pg
            connection.commit()
            connection.close()
            engine.dispose()
            self._pg = None
        if self._sqlite is not None:
            self._sqlite.execute("COMMIT")
            self._sqlite.close()
            self._sqlite = None


async def test_db_locked_by_another_writer_for_two_seconds(bot):
    await linked_with_upload(bot)
    other = OtherWriter(bot)
    other.lock()
    try:
        url = await bot.send_command(f"{PID} while locked")  # Slack is acked regardless
        # what needs no disk still answers while the database is held
        assert "/tiktok-cancel status" in text_of(await bot.command("help"))
        await asyncio.sleep(2.0)  # the fault: the other writer holds on for two seconds
        released_at = time.monotonic()
    finally:
        other.release()
    answer = await bot.answer(url, timeout=15)
    assert "TikTok is stopping" in text_of(answer), text_of(answer)
    # the row is written before TikTok is called, so neither TikTok nor the person heard
    # anything while the database was held: both came after it was released
    (call,) = bot.tiktok.calls_to("cancel")
    assert call.time >= released_at - 0.05
    assert bot.slack.response_times[url][0] >= released_at - 0.05
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["reason"]) == ("finished", "ok", "while locked")
    assert "database is locked" not in bot.log_text()
    assert "Traceback" not in bot.log_text()
    # and the bot carries on
    bot.tiktok.add_upload(NEXT_PID, open_id="open-1")
    assert "TikTok is stopping" in text_of(await bot.command(NEXT_PID))
