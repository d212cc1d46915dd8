"""A person in Slack and in a browser, driving the bot over loopback HTTP.

`Driver` is what the tests, the fault tests, the fuzz suite, the bench and the sandbox use to
act as Slack would on a person's behalf (signed slash commands, button clicks, the App Home
tab opened, a modal filled in and submitted) and as that person's browser would when they
link a TikTok account: the bot's Connect button, TikTok's consent (a code from `FakeTikTok`),
the bot's OAuth callback, then "Link it" on the confirm page it shows (with many workspaces,
after Sign in with Slack as the person the link is for). Requests are signed
with `slack_requests`; answers are read back from `FakeSlack`. Clicks and commands carry a
trigger id the fake issued, so the bot can open a modal with it; `submit_view` fills in the
modal a person has open (`view_values.values_for`) and submits it, answering the bot's ack.

The bot's address may move (a restarted bot gets a new port; replicas take turns), so the
driver is given its base URL or a function returning the URL for the next request. One
round trip (a command and its wait, or the browser's two visits) uses one base URL.

Many workspaces: every request Slack sends can come from a given workspace (`team_id=`; the
fake's default workspace otherwise), with a trigger id issued in that workspace. `send_event`
sends any Events API event; `uninstall` is a workspace removing the app (its tokens revoked
at the fake, then `tokens_revoked` and `app_uninstalled` sent, in the order asked). As a
browser (`browser.Browser`, cookies carried by hand): `install` is "Add to Slack" (the bot's
install page, Slack's consent for the workspace named, the bot's OAuth redirect) and
`sign_in` follows a Sign in with Slack URL through the fake to the bot's callback. The OAuth
callback and the confirm form go through the same browser, so the cookie that binds the link
confirm page's sign-in to it is carried.

The bot's public address (TIKTOK_REDIRECT_URI's, from which it names its `/slack/signin`) is
made up in tests: a redirect to a `/slack/signin` elsewhere is taken to the bot itself, as a
load balancer would.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse, urlsplit

import aiohttp

from .browser import Browser, links_to
from .slack import FakeSlack
from .slack_modals import new_hash, new_view_id
from .slack_requests import (
    app_home_opened_event,
    app_uninstalled_event,
    block_actions_payload,
    event_callback,
    interactive_body,
    post_signed,
    slash_command_body,
    tokens_revoked_event,
    view_submission_payload,
)
from .tiktok import FakeTikTok
from .view_values import ModalError, unsendable, values_for

ANSWER_TIMEOUT_S = 20.0
CALLBACK = "/tiktok/oauth/callback"
CONFIRM = "/tiktok/oauth/confirm"
INSTALL = "/slack/install"
OAUTH_REDIRECT = "/slack/oauth_redirect"
SIGNIN = "/slack/signin"
MAX_HOPS = 10
REDIRECTS = (301, 302, 303, 307, 308)


class DriverError(AssertionError):
    """The bot did not do what a person would see it do (no answer, no Connect button, a
    refused link). An AssertionError, so a test that meets one fails as it should."""


@dataclass(frozen=True)
class Sent:
    """A request Slack sent the bot: the HTTP status of its ack, where its answer goes, and
    the ack's body (a command's ack may carry an answer Slack shows, e.g. Bolt's words for a
    workspace without the app; "" for a plain ack)."""

    status: int
    response_url: str
    ack: str = ""


def buttons(message: dict) -> list[dict]:
    """The buttons in a message's actions blocks."""
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def button_urls(message: dict) -> list[str]:
    """The URLs of a message's link buttons (the bot's Connect button among them)."""
    return [b["url"] for b in buttons(message) if b.get("url")]


def confirm_form(page: str) -> dict[str, str]:
    """The hidden fields of the bot's confirm page form (the state and the confirm token)."""
    fields = re.findall(r'<input type=hidden name=(\w+) value="([^"]*)">', page)
    if not fields:
        raise DriverError(f"no confirm form on the page: {page[:300]}")
    return {name: html.unescape(value) for name, value in fields}


def _json_object(text: str) -> dict[str, Any] | None:
    """An ack's body as a JSON object, or None (a plain ack's body is empty)."""
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def state_of(url: str) -> str:
    """The OAuth `state` a Connect URL carries."""
    return parse_qs(urlparse(url).query)["state"][0]


class Driver:
    """Acts for people in Slack and in a browser against one bot (or its replicas)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        slack: FakeSlack,
        tiktok: FakeTikTok,
        bot_url: str | Callable[[], str],
        *,
        signing_secret: str | None = None,
        answer_timeout: float = ANSWER_TIMEOUT_S,
    ) -> None:
        self.session = session
        self.slack = slack
        self.tiktok = tiktok
        self._bot_url = bot_url
        self.signing_secret = slack.signing_secret if signing_secret is None else signing_secret
        self.answer_timeout = answer_timeout
        self.browser = Browser(session)  # the person's browser for installs and sign-ins

    def url(self) -> str:
        """The bot's base URL for the next request (with replicas, the next one's)."""
        return self._bot_url() if callable(self._bot_url) else self._bot_url

    # --- as Slack ------------------------------------------------------------------------
    async def post_slack(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        bot_url: str | None = None,
    ) -> tuple[int, str]:
        """POST `body` to /slack/events signed as Slack would; (status, text)."""
        return await post_signed(
            self.session,
            (bot_url or self.url()) + "/slack/events",
            body,
            self.signing_secret,
            timestamp,
            headers,
        )

    async def send_command(
        self,
        text: str,
        *,
        user_id: str = "U1",
        response_url: str | None = None,
        bot_url: str | None = None,
        **fields: str,
    ) -> Sent:
        """`/tiktok-cancel <text>` typed by `user_id` (other payload fields, e.g. `user_name`,
        `channel_id`, `team_id` (the workspace), as given); returns once the bot has acked."""
        url = response_url or self.slack.new_response_url()
        team_id = fields.setdefault("team_id", self.slack.team_id)
        fields.setdefault("trigger_id", self.slack.new_trigger_id(user_id, team_id))
        body = slash_command_body(text, response_url=url, user_id=user_id, **fields)
        status, ack = await self.post_slack(body, bot_url=bot_url)
        return Sent(status, url, ack)

    async def send_click(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str = "U1",
        response_url: str | None = None,
        home: bool = False,
        bot_url: str | None = None,
        **fields: str,
    ) -> Sent:
        """A button `action_id` pressed by `user_id` on a message (`channel_id`,
        `message_ts`, … as given) or, with `home`, on the App Home tab (no response_url, no
        channel); returns once the bot has acked. It carries a trigger id the fake issued
        (the bot may open a modal with it)."""
        url = response_url or self.slack.new_response_url()
        team_id = fields.setdefault("team_id", self.slack.team_id)
        fields.setdefault("trigger_id", self.slack.new_trigger_id(user_id, team_id))
        payload = block_actions_payload(
            action_id, value, response_url=url, user_id=user_id, **fields
        )
        if home:
            for key in ("response_url", "channel", "message"):
                payload.pop(key, None)
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {
                "id": "VHOME",
                "type": "home",
                "team_id": team_id,
                "app_installed_team_id": team_id,
            }
        status, _ = await self.post_slack(interactive_body(payload), bot_url=bot_url)
        return Sent(status, "" if home else url)

    async def send_view_submission(
        self,
        callback_id: str,
        private_metadata: str,
        values: dict[str, Any],
        *,
        user_id: str,
        view_id: str | None = None,
        bot_url: str | None = None,
        team_id: str | None = None,
    ) -> tuple[int, dict[str, Any] | None]:
        """`user_id` submits a modal: a signed `view_submission` whose view is view
        `view_id` as the fake shows it (or, for an id it never opened, a bare modal of
        workspace `team_id`) with this callback_id, private_metadata and `state.values`
        (`values_for` builds them), from workspace `team_id` (by default the view's).
        Sent as given: nothing checks the person could have sent it. Returns the HTTP status
        and the JSON of the bot's ack (`response_action` …), or None for a plain ack (or a
        status other than 200, which is no ack); the
        fake then shows what the ack says (errors, an update, a push, or the modal closed)."""
        shown = self.slack.view(view_id) if view_id else None
        team = team_id or (shown.team_id if shown is not None else "") or self.slack.team_id
        if shown is not None:
            base = dict(shown.view)
        else:
            new_id = view_id or new_view_id()
            ws = self.slack.workspaces.get(team, self.slack.default)
            base = {
                "id": new_id,
                "team_id": team,
                "app_installed_team_id": team,
                "type": "modal",
                "blocks": [],
                "root_view_id": new_id,
                "previous_view_id": None,
                "app_id": self.slack.app_id,
                "bot_id": ws.bot_id,
                "hash": new_hash(),
            }
        view = {
            **base,
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        }
        payload = view_submission_payload(
            view,
            user_id=user_id,
            team_id=team,
            trigger_id=self.slack.new_trigger_id(user_id, team),
        )
        status, text = await self.post_slack(interactive_body(payload), bot_url=bot_url)
        if status != 200:  # not an ack: the request was refused
            return status, None
        ack = _json_object(text)
        await self.slack.view_answered(str(view["id"]), user_id, ack)
        return status, ack

    async def submit_view(
        self,
        user_id: str,
        *,
        callback_id: str | None = None,
        bot_url: str | None = None,
        team_id: str | None = None,
        **fields: Any,
    ) -> tuple[int, dict[str, Any] | None]:
        """`user_id` (of workspace `team_id`, if given) fills in the modal they have open (the
        last one the bot showed them, with `callback_id` if given) — inputs named by block_id
        set to `fields`, the rest as the bot left them — and presses its submit button.
        Refused here, as Slack's client refuses it, when a required input is empty or a text
        too long; (status, ack)."""
        shown = self.slack.last_view(user_id, callback_id, team_id)
        if shown is None:
            raise DriverError(
                f"{user_id} has no modal open"
                + (f" with callback_id {callback_id!r}" if callback_id else "")
            )
        values = values_for(shown, **fields)
        problems = unsendable(shown, values)
        if problems:
            raise ModalError(f"Slack would not send this modal: {'; '.join(problems)}")
        return await self.send_view_submission(
            shown.callback_id,
            shown.private_metadata,
            values,
            user_id=user_id,
            view_id=shown.id,
            bot_url=bot_url,
        )

    async def open_home(
        self, user_id: str, *, team_id: str | None = None, bot_url: str | None = None
    ) -> int:
        """`user_id` (of workspace `team_id`) opens the bot's App Home tab (the
        `app_home_opened` event); the status."""
        return await self.send_event(
            app_home_opened_event(user_id), team_id=team_id, bot_url=bot_url
        )

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        team_id: str | None = None,
        bot_url: str | None = None,
        authorizations: bool = False,
        **wrapper: Any,
    ) -> int:
        """Send an Events API event (`event`, the inner object) from workspace `team_id`,
        signed, as JSON; the HTTP status of the ack. With `authorizations`, the wrapper names
        the workspace's bot installation as Slack's does; `wrapper` sets other wrapper
        fields (`event_id`, `event_time`, `enterprise_id`)."""
        team = team_id or self.slack.team_id
        if authorizations:
            ws = self.slack.workspaces.get(team, self.slack.default)
            wrapper.setdefault("bot_user_id", ws.bot_user_id)
        body = event_callback(event, team_id=team, api_app_id=self.slack.app_id, **wrapper)
        status, _ = await self.post_slack(
            json.dumps(body), headers={"Content-Type": "application/json"}, bot_url=bot_url
        )
        return status

    async def send_app_uninstalled(
        self, team_id: str | None = None, *, bot_url: str | None = None
    ) -> int:
        """Slack's `app_uninstalled` event for workspace `team_id`; the ack's status."""
        return await self.send_event(app_uninstalled_event(), team_id=team_id, bot_url=bot_url)

    async def send_tokens_revoked(
        self,
        team_id: str | None = None,
        *,
        oauth=(),
        bot=(),
        bot_url: str | None = None,
    ) -> int:
        """Slack's `tokens_revoked` event for workspace `team_id`, naming the user ids of the
        revoked user (`oauth`) and bot (`bot`) tokens; by default the workspace's bot user."""
        if not oauth and not bot:
            bot = [self.slack.workspace(team_id).bot_user_id]
        event = tokens_revoked_event(oauth=oauth, bot=bot)
        return await self.send_event(event, team_id=team_id, bot_url=bot_url)

    async def uninstall(
        self,
        team_id: str | None = None,
        *,
        order: tuple[str, ...] = ("tokens_revoked", "app_uninstalled"),
        bot_url: str | None = None,
    ) -> list[int]:
        """Workspace `team_id` removes the app: the fake revokes its tokens, then the bot
        gets the events in `order` (Slack doesn't promise one; either may come alone); the
        statuses of their acks, in that order."""
        team = team_id or self.slack.team_id
        revoked = self.slack.uninstall(team)
        if not revoked["bot"]:
            revoked["bot"] = [self.slack.workspace(team).bot_user_id]
        statuses = []
        for name in order:
            if name == "tokens_revoked":
                statuses.append(
                    await self.send_tokens_revoked(
                        team, oauth=revoked["oauth"], bot=revoked["bot"], bot_url=bot_url
                    )
                )
            elif name == "app_uninstalled":
                statuses.append(await self.send_app_uninstalled(team, bot_url=bot_url))
            else:
                raise ValueError(f"unknown uninstall event {name!r}")
        return statuses

    async def answer(
        self, response_url: str, count: int = 1, timeout: float | None = None
    ) -> dict[str, Any]:
        """The `count`-th body the bot posted to `response_url` (waiting for it)."""
        bodies = await self.slack.wait_for_responses(
            response_url, count, timeout=self.answer_timeout if timeout is None else timeout
        )
        return bodies[count - 1]

    @staticmethod
    def acked(sent: Sent, what: str) -> str:
        """`sent`'s response_url, once sure the bot acked it with 200."""
        if sent.status != 200:
            raise DriverError(f"the bot answered HTTP {sent.status} to {what}")
        return sent.response_url

    async def command(
        self, text: str, *, user_id: str = "U1", timeout: float | None = None, **fields: str
    ) -> dict[str, Any]:
        """Type `/tiktok-cancel <text>` and return the bot's (ephemeral) answer."""
        sent = await self.send_command(text, user_id=user_id, **fields)
        url = self.acked(sent, f"/tiktok-cancel {text}")
        try:
            return await self.answer(url, timeout=timeout)
        except DriverError:
            raise
        except AssertionError as exc:
            raise DriverError(f"the bot did not answer /tiktok-cancel {text}: {exc}") from None

    async def click(
        self, action_id: str, value: str, *, user_id: str = "U1", **fields: str
    ) -> dict[str, Any]:
        """Press a button on a message and return the bot's answer at its response_url."""
        sent = await self.send_click(action_id, value, user_id=user_id, **fields)
        return await self.answer(self.acked(sent, f"a click on {action_id}"))

    # --- as the person's browser ---------------------------------------------------------
    async def install(
        self,
        bot_url: str | None = None,
        team_id: str | None = None,
        *,
        enterprise_id: str | None = None,
        org: bool = False,
        installer: str = "U1",
        deny: bool = False,
        browser: Browser | None = None,
    ) -> tuple[int, str]:
        """ "Add to Slack" as the installer's browser: the bot's install page (its cookie kept
        by hand: Bolt's state cookie is `Secure`), the link or redirect to Slack's authorize
        URL, Slack's consent for workspace `team_id` (org-wide with `org`; refused with
        `deny`), then the bot's OAuth redirect with the code and state, and any redirects
        after it. Returns the status and text of the page it ends on. The app's configured
        Redirect URL, unless a test set one, is the bot's `/slack/oauth_redirect`."""
        base = bot_url or self.url()
        if deny:
            self.slack.deny_next_install()
        else:
            self.slack.next_install(
                team_id, enterprise_id=enterprise_id, org=org, installer=installer
            )
        if self.slack.oauth_redirect_url is None:
            self.slack.oauth_redirect_url = base + OAUTH_REDIRECT
        browser = browser or self.browser
        start = await browser.get(base + INSTALL)
        if start.status in REDIRECTS and start.location:
            authorize = start.location
        elif start.status == 200:
            links = links_to(start.text, self.slack.authorize_url)
            if len(links) != 1:
                raise DriverError(
                    f"no one Add to Slack link on the install page: {start.text[:300]}"
                )
            authorize = links[0]
        else:
            return start.status, start.text
        if not authorize.startswith(self.slack.authorize_url):
            raise DriverError(f"the install page leads elsewhere than Slack: {authorize}")
        page = await browser.follow(authorize)
        return page.status, page.text

    async def sign_in(
        self,
        url: str,
        *,
        team_id: str | None = None,
        user_id: str | None = None,
        browser: Browser | None = None,
        bot_url: str | None = None,
    ) -> tuple[int, str]:
        """Follow a Sign in with Slack URL (Slack's `/openid/connect/authorize`, or a bot
        page that redirects there; a path is on the bot) through the fake to the bot's callback (its
        `redirect_uri`) and on: the page it ends on. With `user_id`, the browser is signed
        in to Slack as that person of workspace `team_id` first (else as the fake says)."""
        if user_id is not None:
            self.slack.sign_in_as(team_id or self.slack.team_id, user_id)
        base = bot_url or self.url()
        if url.startswith("/"):  # a link on one of the bot's pages
            url = base + url
        browser = browser or self.browser
        trail = [url]
        page = await browser.get(url)
        while page.status in REDIRECTS and page.location:
            if len(trail) > MAX_HOPS:
                raise DriverError(f"more than {MAX_HOPS} redirects: {trail}")
            target = self.reachable(page.location, base)
            trail.append(target)
            page = await browser.get(target)
        return page.status, page.text

    def reachable(self, location: str, base: str) -> str:
        """`location`, or the bot itself for a redirect to its (made-up) public /slack/signin."""
        parts = urlsplit(location)
        if location.startswith((self.slack.url, base)) or not parts.path.endswith(SIGNIN):
            return location
        return base + SIGNIN + (f"?{parts.query}" if parts.query else "")

    async def callback(self, params: dict[str, str], bot_url: str | None = None) -> tuple[int, str]:
        """The browser back from TikTok at the bot's OAuth callback: the confirm page
        (nothing is linked yet; with many workspaces, the page asking to sign in with Slack
        first, its cookie kept by the browser); (status, page)."""
        url = (bot_url or self.url()) + CALLBACK + "?" + urlencode(params)
        page = await self.browser.get(url)
        return page.status, page.text

    async def confirm(
        self, page: str, choice: str = "link", bot_url: str | None = None
    ) -> tuple[int, str]:
        """Press "Link it" (`link`) or "Don't link" on the confirm page: POST its form."""
        data = {**confirm_form(page), "choice": choice}
        answer = await self.browser.post((bot_url or self.url()) + CONFIRM, data)
        return answer.status, answer.text

    def sign_in_links(self, page: str) -> list[str]:
        """The Sign in with Slack links on a bot page."""
        return links_to(page, self.slack.oidc_authorize_url)

    async def consent(
        self,
        params: dict[str, str],
        choice: str = "link",
        bot_url: str | None = None,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
    ) -> tuple[int, str]:
        """The callback, then the confirm page's button, at one bot: what linking does. When
        the page asks to Sign in with Slack first (many workspaces) and the choice is to
        link, the browser signs in as `user_id` of `team_id` (else as the fake says)."""
        base = bot_url or self.url()
        status, page = await self.callback(params, base)
        if status != 200:
            return status, page
        sign_in = self.sign_in_links(page)
        if sign_in and choice == "link":
            status, page = await self.sign_in(
                sign_in[0], team_id=team_id, user_id=user_id, bot_url=base
            )
            if status != 200:
                return status, page
        return await self.confirm(page, choice, base)

    async def allow(
        self,
        connect_url: str,
        open_id: str,
        choice: str = "link",
        *,
        user_id: str | None = None,
        team_id: str | None = None,
    ) -> str:
        """Follow the bot's Connect URL: TikTok's consent as `open_id` (a code bound to the
        redirect URI the bot named), then the bot's callback and confirm page (signing in
        with Slack as `user_id` of `team_id` if it asks); the last page."""
        query = parse_qs(urlparse(connect_url).query)
        first = {name: values[0] for name, values in query.items()}
        if "state" not in first:
            raise DriverError(f"the Connect URL carries no state: {connect_url}")
        code = self.tiktok.issue_code(open_id, redirect_uri=first.get("redirect_uri"))
        params = {"code": code, "state": first["state"], "scopes": first.get("scope", "")}
        status, page = await self.consent(params, choice, user_id=user_id, team_id=team_id)
        if status != 200:
            raise DriverError(f"the bot answered HTTP {status} to linking: {page[:300]}")
        return page

    async def link(
        self,
        user_id: str = "U1",
        open_id: str = "open-1",
        display_name: str = "Brand Social",
        *,
        command: str = "connect",
        timeout: float | None = None,
        **fields: str,
    ) -> str:
        """Link a TikTok account as a person would: `/tiktok-cancel connect` (or `command`,
        e.g. `team connect brand` as an admin), the one Connect button in the answer, TikTok's
        consent as `open_id` (made with `display_name` if TikTok doesn't know it), then "Link
        it" on the bot's confirm page (signed in with Slack as `user_id` first when the bot
        asks). Returns that last page."""
        if open_id not in self.tiktok.users:
            self.tiktok.add_user(open_id=open_id, display_name=display_name)
        answer = await self.command(command, user_id=user_id, timeout=timeout, **fields)
        urls = button_urls(answer)
        if len(urls) != 1:
            raise DriverError(f"no one Connect button in the answer: {answer}")
        team_id = fields.get("team_id") or self.slack.team_id
        return await self.allow(urls[0], open_id, user_id=user_id, team_id=team_id)
