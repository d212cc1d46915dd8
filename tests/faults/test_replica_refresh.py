"""One refresh per link across replicas: two bot processes on one PostgreSQL schema need the
same link refreshed at the same moment, and TikTok hears one refresh.

TikTok rotates refresh tokens (the old one dies with the first refresh), so a second refresh
would spend a dead token. The replicas agree through a lease in the database
("refresh:<team>:<kind>:<owner>"): the one that takes it refreshes; the other waits for the
lease to end and then uses the pair the winner stored.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import text_of
from tests.faults.conftest import BotProcess, wait_until

pytestmark = pytest.mark.needs_postgres

PID_A = "v_pub_url~v2.8300001"
PID_B = "v_pub_url~v2.8300002"


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replicas A and B of one deployment on a fresh schema, started; SIGKILLed after."""
    a = BotProcess(slack, tiktok, tmp_path / "a", session, DATABASE_URL=postgres_url)
    b = a.replica(tmp_path / "b")
    await asyncio.gather(a.start(), b.start())
    yield a, b
    for process in (a, b):
        await process.close()


def refreshes(bot: BotProcess) -> list:
    return [c for c in bot.tiktok.calls_to("token") if c.body.get("grant_type") == "refresh_token"]


async def test_two_replicas_refreshing_one_link_at_once_make_one_refresh_call(replicas):
    a, b = replicas
    await a.link(user_id="U1", open_id="open-1")
    a.tiktok.add_upload(PID_A, open_id="open-1")
    a.tiktok.add_upload(PID_B, open_id="open-1")
    # The stored access token has run out: whoever uses the link next must refresh it first.
    with a._engine().begin() as conn:  # the test's own connection to the bot's database
        conn.exec_driver_sql(
            "UPDATE links SET access_expires_at = %s WHERE owner = 'U1'", (time.time() - 60,)
        )
    hold = a.tiktok.hold("token", grant_type="refresh_token")
    try:
        # U1 cancels two uploads at once, one through each replica: both need the refresh
        url_a = await a.send_command(f"{PID_A} wrong cut", user_id="U1")
        await hold.wait_arrived(timeout=10)
        url_b = await b.send_command(f"{PID_B} wrong cut", user_id="U1")
        # B finds A's lease and waits for it, or (the bug) sends a refresh of its own
        await wait_until(
            lambda: "tiktok.refresh_waiting" in b.log_text() or len(refreshes(a)) > 1,
            15,
            lambda: f"B neither waited nor refreshed:\n{b.log_tail()}",
        )
        assert len(refreshes(a)) == 1, "both replicas refreshed: the second spent a dead token"
    finally:
        hold.release()
    said_a = text_of(await a.answer(url_a))
    said_b = text_of(await b.answer(url_b))
    assert "TikTok is stopping" in said_a, said_a
    assert "TikTok is stopping" in said_b, said_b

    # one refresh in all; both cancels went out with the one new access token it gave
    assert len(refreshes(a)) == 1
    cancels = a.tiktok.calls_to("cancel")
    assert len(cancels) == 2
    assert cancels[0].token == cancels[1].token
    assert a.tiktok.is_access_valid(cancels[0].token)
    (link,) = a.rows("SELECT access_expires_at FROM links WHERE owner = 'U1'")
    assert link["access_expires_at"] > time.time() + 3600, "the new pair was not stored"
    assert "tiktok.refreshed" in a.log_text()
    assert "tiktok.refreshed" not in b.log_text()  # B used the pair A stored
    assert "tiktok.link_forgotten" not in a.log_text() + b.log_text()
    for bot in (a, b):
        assert "Traceback" not in bot.log_text(), bot.log_tail()
