"""Add to Slack across two replicas (two real processes, many workspaces) on one PostgreSQL
schema: an install begun on one and finished on the other (the state lives in the database),
then used by both at once, even by the replica that had just answered the workspace that it
was not installed (a workspace found missing is not remembered)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import text_of
from tests.faults.conftest import BotProcess

pytestmark = pytest.mark.needs_postgres

TEAM_B = "T0002"
HELP_HEADLINE = "How to use /tiktok-cancel"


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replicas A and B of a many-workspace deployment on a fresh schema; SIGKILLed after."""
    a = BotProcess(
        slack,
        tiktok,
        tmp_path / "a",
        session,
        DATABASE_URL=postgres_url,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        TIKTOK_REDIRECT_URI="",  # Slack sends the installer to the app's configured URL
    )
    b = a.replica(tmp_path / "b")
    yield a, b
    for process in (a, b):
        await process.close()


async def test_an_install_on_one_replica_is_used_by_the_other_at_once(slack, replicas):
    a, b = replicas
    await asyncio.gather(a.start(), b.start())
    ws = slack.add_workspace(TEAM_B, "Brand Two", installed=False)

    before = await b.driver.command("help", team_id=TEAM_B)  # B looks the workspace up: none
    assert "isn't installed in this workspace" in text_of(before)

    slack.oauth_redirect_url = b.url + "/slack/oauth_redirect"  # begun on A, finished on B
    status, page = await a.driver.install(team_id=TEAM_B, installer="U9")
    assert status == 200 and "Added to Brand Two" in page, page
    (row,) = b.rows("SELECT team_id, installer_user_id FROM slack_installations")
    assert row == {"team_id": TEAM_B, "installer_user_id": "U9"}

    for replica in (b, a):  # at once, on either
        answer = await replica.driver.command("help", team_id=TEAM_B)
        assert HELP_HEADLINE in text_of(answer)
    assert {c.token for c in slack.calls_for(TEAM_B)} == {ws.bot_token}
    assert slack.wrong_team_calls() == []
    for replica in (a, b):
        assert "Traceback" not in replica.log_text(), replica.log_tail()
        assert ws.bot_token not in replica.log_text()


async def test_an_uninstall_on_one_replica_stops_the_other_within_seconds(slack, replicas):
    """The workspace's token stops being used by B within its few seconds of memory (the
    installation is read again after at most `bot.accounts.workspaces.CACHE_S`)."""
    a, b = replicas
    await asyncio.gather(a.start(), b.start())
    slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    slack.oauth_redirect_url = a.url + "/slack/oauth_redirect"
    status, page = await a.driver.install(team_id=TEAM_B)
    assert status == 200, page
    for replica in (a, b):  # both know the installation now
        assert HELP_HEADLINE in text_of(await replica.driver.command("help", team_id=TEAM_B))

    assert await a.driver.uninstall(TEAM_B) == [200, 200]  # the events reach A only
    deadline = asyncio.get_running_loop().time() + 10.0
    while a.rows("SELECT team_id FROM slack_installations"):
        assert asyncio.get_running_loop().time() < deadline, "A did not forget the workspace"
        await asyncio.sleep(0.1)
    while True:  # B stops answering for it as soon as its memory of the install runs out
        answer = await b.driver.command("help", team_id=TEAM_B)
        if "isn't installed in this workspace" in text_of(answer):
            break
        assert asyncio.get_running_loop().time() < deadline, "B kept serving the workspace"
        await asyncio.sleep(0.2)
    assert slack.wrong_team_calls() == []
    for replica in (a, b):
        assert "Traceback" not in replica.log_text(), replica.log_tail()
