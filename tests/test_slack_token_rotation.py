"""Bot token rotation (many workspaces, the Slack app's token rotation on), over real HTTP
against the Slack stand-in: a token about to run out is rotated before anyone uses it, once
however many requests (or replicas) want it at the same time; every refresh token is spent
once; a rotation that ends after an uninstall writes nothing; a refusal keeps the token that
still works."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.slack.bot_tokens import BotTokenRotation, rotation_client
from storage.db import Store
from storage.installations import Installation, Installations
from tests.conftest import text_of
from tests.install_helpers import installations, many_harness, opened

TEAM = "T0005"
HELP_HEADLINE = "How to use /tiktok-cancel"
TWELVE_HOURS = 43200


@pytest.fixture
async def hm(slack, tiktok, settings):
    async with many_harness(slack, tiktok, settings) as harness:
        yield harness


def refreshes(slack) -> list:
    calls = slack.calls_to("oauth.v2.access")
    return [c for c in calls if c.params.get("grant_type") == "refresh_token"]


async def test_a_token_about_to_run_out_is_rotated_once_for_two_requests_at_once(hm):
    ws = hm.slack.add_workspace(TEAM, "Rotating", installed=False, rotation=True, expires_in=3600)
    assert (await hm.driver.install(team_id=TEAM))[0] == 200
    (row,) = installations(hm)
    first_refresh = ws.refresh_token
    assert opened(hm, row["bot_refresh_token"]) == first_refresh
    assert 3500 < row["bot_token_expires_at"] - time.time() <= 3600  # inside the 130 minutes

    hold = hm.slack.hold("oauth.v2.access", grant_type="refresh_token")
    both = asyncio.gather(
        hm.driver.command("help", user_id="U1", team_id=TEAM),
        hm.driver.command("help", user_id="U2", team_id=TEAM),
    )
    await hold.wait_arrived()
    hold.release()
    answers = await both
    assert all(HELP_HEADLINE in text_of(a) for a in answers)
    (refresh,) = refreshes(hm.slack)  # one rotation for both
    assert refresh.params["refresh_token"] == first_refresh
    second_refresh = ws.refresh_token
    assert second_refresh != first_refresh
    (row,) = installations(hm)
    assert opened(hm, row["bot_token"]) == ws.bot_token
    assert opened(hm, row["bot_refresh_token"]) == second_refresh

    # that token runs out within the hour too: the next use rotates again, with the new
    # refresh token (the spent one never again); Slack now gives 12 hours
    ws.expires_in = TWELVE_HOURS
    answer = await hm.driver.command("help", team_id=TEAM)
    assert HELP_HEADLINE in text_of(answer)
    assert [c.params["refresh_token"] for c in refreshes(hm.slack)] == [
        first_refresh,
        second_refresh,
    ]
    assert hm.slack.tokens.refresh[first_refresh].spent
    assert hm.slack.tokens.refresh[second_refresh].spent
    (row,) = installations(hm)
    assert opened(hm, row["bot_token"]) == ws.bot_token
    assert row["bot_token_expires_at"] - time.time() > TWELVE_HOURS - 100

    # fresh for 12 hours: the bot's own calls (the Home tab) use it, nothing is rotated
    assert await hm.driver.open_home("U1", team_id=TEAM) == 200
    (publish,) = await hm.slack.wait_for_call("views.publish")
    assert publish.token == ws.bot_token
    assert len(refreshes(hm.slack)) == 2
    assert hm.slack.wrong_team_calls() == []
    # no call was made with a token Slack refused (expired, revoked, never issued)
    assert [c.method for c in hm.slack.calls_for(TEAM) if c.team_id is None] == []


@pytest.fixture
async def replicas(slack, settings):
    """Two replicas' worth of database access and rotation (each its own Store, locks and
    client) on one database, and the rotating workspace's installation stored."""
    ws = slack.add_workspace(TEAM, "Rotating", rotation=True, expires_in=3600)
    installed = Installations(Fernet(settings.token_encryption_key.encode()))
    stores = [Store(settings.store_url) for _ in range(2)]
    for store in stores:
        await store.open()
    await stores[0].run(
        installed.save,
        Installation(
            team_id=TEAM,
            bot_token=ws.bot_token,
            bot_refresh_token=ws.refresh_token,
            bot_token_expires_at=time.time() + 3600,
        ),
    )
    async with aiohttp.ClientSession() as session:
        rotations = [
            BotTokenRotation(
                store,
                installed,
                rotation_client(session, slack.api_url),
                slack.client_id,
                slack.client_secret,
            )
            for store in stores
        ]
        yield ws, installed, stores, rotations
    for store in stores:
        store.close()


async def test_two_replicas_rotating_at_once_spend_the_refresh_token_once(slack, replicas):
    ws, installed, stores, rotations = replicas
    seen = await stores[0].run(installed.get, TEAM)
    spent = ws.refresh_token
    hold = slack.hold("oauth.v2.access")
    a = asyncio.ensure_future(rotations[0].fresh(seen))
    b = asyncio.ensure_future(rotations[1].fresh(seen))
    await hold.wait_arrived()
    ws.expires_in = TWELVE_HOURS
    hold.release()
    first, second = await asyncio.gather(a, b)
    assert first is not None and second is not None
    assert first.bot_token == second.bot_token == ws.bot_token
    assert first.bot_refresh_token == second.bot_refresh_token == ws.refresh_token != spent
    (refresh,) = slack.calls_to("oauth.v2.access")
    assert refresh.params["refresh_token"] == spent
    assert await stores[1].run(lambda db: db.query("SELECT name FROM leases")) == []


async def test_a_rotation_that_ends_after_an_uninstall_writes_nothing(slack, replicas):
    ws, installed, stores, rotations = replicas
    seen = await stores[0].run(installed.get, TEAM)
    hold = slack.hold("oauth.v2.access")
    rotating = asyncio.ensure_future(rotations[0].fresh(seen))
    await hold.wait_arrived()
    assert await stores[1].run(installed.delete, TEAM)  # uninstalled meanwhile
    hold.release()
    assert await rotating is None
    assert await stores[0].run(installed.get, TEAM) is None  # nothing brought back


async def test_a_refused_rotation_keeps_the_token_that_still_works(slack, replicas):
    ws, installed, stores, rotations = replicas
    seen = await stores[0].run(installed.get, TEAM)
    slack.fail("oauth.v2.access", "invalid_refresh_token")
    kept = await rotations[0].fresh(seen)
    assert kept is not None and kept.bot_token == seen.bot_token == ws.bot_token
    assert kept.bot_refresh_token == seen.bot_refresh_token
    assert len(slack.calls_to("oauth.v2.access")) == 1


async def test_a_token_with_hours_left_is_not_rotated(slack, replicas):
    _, installed, stores, rotations = replicas
    in_three_hours = time.time() + 3 * 3600
    await stores[0].run(
        lambda db: db.execute(
            "UPDATE slack_installations SET bot_token_expires_at = ?", [in_three_hours]
        )
    )
    seen = await stores[0].run(installed.get, TEAM)
    assert await rotations[0].fresh(seen) is seen
    assert slack.calls_to("oauth.v2.access") == []
