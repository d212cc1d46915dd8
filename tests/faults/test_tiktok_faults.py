"""TikTok misbehaving, seen through the bot as a separate process with its real budgets.

For each fault: what the person reads, what the audit row keeps (finished, outcome, attempts),
and that the same process keeps serving afterwards (`help`, then a cancel that works).
"""

from __future__ import annotations

import time

import pytest

from sandbox.fakes import Reply
from tests.conftest import buttons, text_of
from tests.faults.conftest import BotProcess, free_port

PID = "v_pub_url~v2.7000001"
NEXT_PID = "v_pub_url~v2.7000002"
REQUEST_TIMEOUT_S = 5.0  # Settings.tiktok_request_timeout
CANCEL_DEADLINE_S = 12.0  # Settings.cancel_deadline


def ok_envelope(log_id: str = "20261126000000OKLOGID") -> dict:
    return {"error": {"code": "ok", "message": "", "log_id": log_id}}


def assert_explained(text: str, publish_id: str = PID) -> None:
    """The VOICE shape: a headline, whether it still runs, a next step, the publish_id."""
    assert "Traceback" not in text
    assert "Still running:*" in text
    assert "*Next:*" in text
    assert publish_id in text


async def linked_with_upload(bot: BotProcess, publish_id: str = PID) -> None:
    await bot.link()
    bot.tiktok.add_upload(publish_id, open_id="open-1")


async def assert_keeps_serving(bot: BotProcess, publish_id: str = NEXT_PID) -> None:
    """The same process still answers `help` and still cancels an upload."""
    assert bot.running
    assert "/tiktok-cancel status" in text_of(await bot.command("help"))
    if publish_id not in bot.tiktok.uploads:
        bot.tiktok.add_upload(publish_id, open_id="open-1")
    answer = await bot.command(f"{publish_id} after the fault")
    assert "TikTok is stopping" in text_of(answer), text_of(answer)
    (row,) = bot.cancel_rows(publish_id)
    assert (row["state"], row["outcome"], row["attempts"]) == ("finished", "ok", 1)


# --- TikTok hangs: the answer is "unknown", with how to check -------------------------------


async def test_hang_is_an_unknown_outcome_with_a_status_hint_and_status_works(bot):
    await linked_with_upload(bot)
    bot.tiktok.script("cancel", Reply(hang=True))
    started = time.monotonic()
    answer = await bot.command(f"{PID} launch pulled")
    waited = time.monotonic() - started
    text = text_of(answer)
    assert_explained(text)
    assert "didn't answer" in text and "don't know" in text
    assert "Still running:* unknown" in text
    assert f"/tiktok-cancel status {PID}" in text
    assert REQUEST_TIMEOUT_S - 0.5 < waited < CANCEL_DEADLINE_S + 3, waited
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["http_status"], row["attempts"]) == (
        "finished",
        "timeout",
        None,
        1,
    )
    assert row["reason"] == "launch pulled"
    assert row["latency_ms"] >= (REQUEST_TIMEOUT_S - 0.5) * 1000
    assert len(bot.tiktok.calls_to("cancel")) == 1, "a timeout may have worked: not retried"

    # the person does what the answer says: asks for the status, which works
    status = await bot.command(f"status {PID}")
    assert "still downloading" in text_of(status)
    assert [b["value"] for b in buttons(status) if b["action_id"] == "cancel_upload"] == [PID]
    # and asking to cancel again is safe: this time TikTok answers
    again = await bot.command(PID)
    assert "TikTok is stopping" in text_of(again)
    assert [r["outcome"] for r in bot.cancel_rows(PID)] == ["timeout", "ok"]
    await assert_keeps_serving(bot)


# --- TikTok answers slowly, but inside the request budget -----------------------------------


async def test_slow_answer_under_the_timeout_is_a_normal_cancel(bot):
    await linked_with_upload(bot)
    bot.tiktok.cancel_latency_s = 2.0
    answer = await bot.command(PID)
    bot.tiktok.cancel_latency_s = 0
    text = text_of(answer)
    assert "TikTok is stopping" in text
    assert "Still running:* stopping" in text
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["http_status"], row["attempts"]) == (
        "finished",
        "ok",
        200,
        1,
    )
    assert row["latency_ms"] >= 1900
    assert row["log_id"] and row["log_id"] in text
    await assert_keeps_serving(bot)


# --- answers that are not TikTok's JSON ----------------------------------------------------

HTML_502 = Reply(
    status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
)

BROKEN = [
    # (replies for every attempt, outcome, attempts, HTTP status kept, words the person reads)
    ([HTML_502] * 3, "server_error", 3, 502, "having trouble on its side"),
    ([Reply(status=500, body=b"", content_type="text/plain")] * 3, "server_error", 3, 500, ""),
    ([Reply(status=200, body="{not json")], "bad_response", 1, 200, "garbled"),
    ([Reply(reset=True, json=ok_envelope("L" * 40))], "bad_response", 1, 200, "garbled"),
]


@pytest.mark.parametrize(
    ("replies", "outcome", "attempts", "http_status", "words"),
    BROKEN,
    ids=["html-502-x3", "empty-500-x3", "bad-json", "reset-mid-body"],
)
async def test_broken_answers_are_explained_and_audited(
    bot, replies, outcome, attempts, http_status, words
):
    await linked_with_upload(bot)
    bot.tiktok.script("cancel", *replies)
    answer = await bot.command(f"{PID} broken")
    text = text_of(answer)
    assert_explained(text)
    assert "Still running:* unknown" in text
    assert f"/tiktok-cancel status {PID}" in text
    if words:
        assert words in text
    if attempts > 1:
        assert "we tried several times" in text
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["attempts"], row["http_status"]) == (
        "finished",
        outcome,
        attempts,
        http_status,
    )
    assert len(bot.tiktok.calls_to("cancel")) == attempts
    assert bot.tiktok.pending_scripts("cancel") == 0
    assert "Traceback" not in bot.log_text()
    await assert_keeps_serving(bot)


# --- a 429 storm: every attempt is rate limited ----------------------------------------------


async def test_429_on_every_attempt_says_busy_and_tried_three_times(bot):
    await linked_with_upload(bot)
    bot.tiktok.script_error("cancel", 429, "rate_limit_exceeded", times=3)
    started = time.monotonic()
    answer = await bot.command(PID)
    assert time.monotonic() - started < CANCEL_DEADLINE_S
    text = text_of(answer)
    assert_explained(text)
    assert "too many requests" in text and "we tried several times" in text
    assert "Still running:* yes" in text
    calls = bot.tiktok.calls_to("cancel")
    assert len(calls) == 3
    first_gap, second_gap = calls[1].time - calls[0].time, calls[2].time - calls[1].time
    assert first_gap >= 0.4 and second_gap > first_gap, "retries back off"
    last_log_id = calls[-1].response["error"]["log_id"]
    assert last_log_id in text
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["attempts"], row["http_status"]) == (
        "finished",
        "rate_limit_exceeded",
        3,
        429,
    )
    assert row["log_id"] == last_log_id
    assert bot.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"
    await assert_keeps_serving(bot)


# --- TikTok unreachable: connection refused ----------------------------------------------------


async def test_connection_refused_is_explained_and_the_bot_recovers_when_tiktok_is_back(bot):
    await linked_with_upload(bot)
    await bot.restart(TIKTOK_API_URL=f"http://127.0.0.1:{free_port()}")
    answer = await bot.command(f"{PID} nobody home")
    text = text_of(answer)
    assert_explained(text)
    assert "couldn't reach TikTok" in text
    (row,) = bot.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["attempts"], row["http_status"]) == (
        "finished",
        "connection_failed",
        3,
        None,
    )
    assert bot.tiktok.calls_to("cancel") == []
    # what needs no TikTok still works while it is unreachable
    assert "/tiktok-cancel status" in text_of(await bot.command("help"))
    assert "Brand Social" in text_of(await bot.command("whoami"))
    # TikTok is back: the same upload can be cancelled, and every attempt has its row
    await bot.restart(TIKTOK_API_URL=bot.tiktok.url)
    assert "TikTok is stopping" in text_of(await bot.command(PID))
    assert [r["outcome"] for r in bot.cancel_rows(PID)] == ["connection_failed", "ok"]
    await assert_keeps_serving(bot)
