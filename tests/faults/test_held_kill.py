"""Held uploads survive kill -9: the window is in the database, and the one init still
happens exactly once after a restart (the bot as a real process)."""

from __future__ import annotations

import signal

from tests.conftest import button_urls, state_of
from tests.faults.conftest import ADMIN, wait_until

SOURCE = "https://cdn.example.com/teaser.mp4"


async def link_brand(bot) -> None:
    bot.tiktok.add_user(open_id="open-brand", display_name="Brand Social")
    answer = await bot.command("team connect brand", user_id=ADMIN)
    code = bot.tiktok.issue_code("open-brand")
    status, page = await bot.consent({"code": code, "state": state_of(button_urls(answer)[0])})
    assert status == 200, page


async def submit(
    bot, hold_s: float, key: str = "run-kill", title: str = "Kill test"
) -> tuple[int, dict]:
    """`POST /uploads` for the team account "brand", as the pipeline would."""
    body = {
        "upload_key": key,
        "channel": "C1",
        "account": "brand",
        "source_url": SOURCE,
        "hold_s": hold_s,
        "post": {"title": title, "privacy_level": "SELF_ONLY"},
    }
    headers = {"Authorization": f"Bearer {bot.env['UPLOAD_TOKEN']}"}
    async with bot.session.post(bot.url + "/uploads", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


def state(bot) -> str:
    (row,) = bot.rows("SELECT state FROM held_uploads WHERE upload_key = ?", "run-kill")
    return row["state"]


async def test_kill_9_inside_the_window_still_one_init_after_restart(bot):
    await link_brand(bot)
    status, _ = await submit(bot, hold_s=4)
    assert status == 202
    assert await bot.kill() == -signal.SIGKILL
    await bot.start()
    await wait_until(lambda: state(bot) == "started", 15, "not started after restart")
    assert len(bot.tiktok.calls_to("init")) == 1
