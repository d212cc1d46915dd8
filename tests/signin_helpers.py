"""The link confirm page's Sign in with Slack (many workspaces) in tests: the bot serving many
workspaces with the fake Slack's workspace installed, a person's TikTok consent up to the page
that asks to sign in, and the browser's steps through Slack taken one at a time."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import parse_qs, urlsplit

from sandbox.fakes.browser import Browser
from sandbox.fakes.driver import Driver
from tests.conftest import button_urls, db_rows, state_of
from tests.workspaces_helpers import many_workspaces

ALEX, BLAKE = "U1", "U2"


async def many(h, **overrides):
    """`h` serving many workspaces (the fake's default one installed), with two people."""
    await many_workspaces(h, **overrides)
    h.slack.set_user(ALEX, name="alex", real_name="Alex Rivera", email="alex@example.com")
    h.slack.set_user(BLAKE, name="blake", real_name="Blake Ito", email="blake@example.com")
    return h


async def sign_in_page(
    h, d: Driver, user_id: str = ALEX, open_id: str = "open-1", name: str = "Brand Social"
) -> tuple[int, str, str]:
    """`user_id` asks to connect, consents at TikTok as `open_id`, and the browser of `d` comes
    back to the bot's callback: (status, the page, TikTok's state)."""
    if open_id not in h.tiktok.users:
        h.tiktok.add_user(open_id, name)
    answer = await d.command("connect", user_id=user_id)
    (url,) = button_urls(answer)
    state = state_of(url)
    status, page = await d.callback({"code": h.tiktok.issue_code(open_id), "state": state})
    return status, page, state


def sign_in_url(d: Driver, page: str) -> str:
    """The page's one Sign in with Slack link."""
    (url,) = d.sign_in_links(page)
    return url


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def back_from_slack(h, d: Driver, url: str, browser: Browser | None = None) -> str:
    """The browser visits Slack's sign-in URL; where Slack sends it back (the bot's own
    /slack/signin, with the code and state), not visited yet."""
    at_slack = await (browser or d.browser).get(url)
    assert at_slack.status == 302 and at_slack.location, at_slack.text
    return d.reachable(at_slack.location, h.url)


async def visit(d: Driver, url: str, browser: Browser | None = None) -> tuple[int, str]:
    page = await (browser or d.browser).get(url)
    return page.status, page.text


def visible(page: str) -> str:
    """The page's text as a browser shows it: head dropped, a detail's name and value apart,
    other tags dropped, entities decoded."""
    body = page.split("<body>", 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(d[td]|p|h1|form)>", " ", body)))


def words(page: str) -> str:
    return " ".join(visible(page).split())


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def state_row(h) -> dict:
    (row,) = db_rows(h, "SELECT * FROM oauth_states")
    return row


def links(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM links ORDER BY team_id, kind, owner")
