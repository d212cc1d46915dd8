"""Add to Slack in tests: the bot's settings for many workspaces, a harness that runs it, the
browser's steps of an install taken one at a time, and the installations read back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from cryptography.fernet import Fernet

from bot.settings import Settings
from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.browser import Browser, links_to
from tests.conftest import Harness, db_rows

INSTALL = "/slack/install"
REDIRECT = "/slack/oauth_redirect"
STATE_COOKIE = "slack-app-oauth-state"


def many_settings(settings: Settings, slack: FakeSlack, **overrides) -> Settings:
    """`settings` for many workspaces: the fake's app credentials instead of a bot token.
    No TIKTOK_REDIRECT_URI unless given: Slack then sends the installer back to the app's
    configured Redirect URL (the driver sets it to the bot's /slack/oauth_redirect)."""
    values = {
        "slack_bot_token": None,
        "slack_client_id": slack.client_id,
        "slack_client_secret": slack.client_secret,
        "tiktok_redirect_uri": None,
        **overrides,
    }
    return replace(settings, **values)


@contextlib.asynccontextmanager
async def many_harness(
    slack: FakeSlack, tiktok: FakeTikTok, settings: Settings, **overrides
) -> AsyncIterator[Harness]:
    """The real bot serving many workspaces, started; stopped after."""
    async with aiohttp.ClientSession() as session:
        harness = Harness(slack, tiktok, many_settings(settings, slack, **overrides), session)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()


def installations(h) -> list[dict]:
    """The `slack_installations` rows as stored (tokens as ciphertext)."""
    return db_rows(h, "SELECT * FROM slack_installations ORDER BY team_id")


def opened(h, sealed: str) -> str:
    """A token the bot stored, decrypted with its key."""
    return Fernet(h.settings.token_encryption_key.encode()).decrypt(sealed.encode()).decode()


@dataclass
class Consent:
    """An install stopped where Slack sends the browser back: `redirect` is the bot's
    /slack/oauth_redirect with Slack's code and state, not yet visited."""

    browser: Browser
    authorize_url: str
    state: str
    redirect: str

    def with_query(self, **changes: str) -> str:
        """The redirect with some query values changed."""
        parts = urlsplit(self.redirect)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query.update(changes)
        return parts._replace(query=urlencode(query)).geturl()


async def consent_for(
    h, team_id: str | None = None, *, installer: str = "U1", browser: Browser | None = None
) -> Consent:
    """The installer's browser opens the bot's install page and presses Allow on Slack's page
    for `team_id`; stops before visiting the bot's redirect."""
    browser = browser or Browser(h.session)
    h.slack.next_install(team_id, installer=installer)
    if h.slack.oauth_redirect_url is None:
        h.slack.oauth_redirect_url = h.url + REDIRECT
    page = await browser.get(h.url + INSTALL)
    assert page.status == 200, page.text
    (authorize,) = links_to(page.text, h.slack.authorize_url)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    slack_page = await browser.get(authorize)
    assert slack_page.status == 302 and slack_page.location, slack_page.text
    return Consent(browser, authorize, state, slack_page.location)
