"""A fake Slack: Web API, response_url endpoints and a Socket Mode websocket, over HTTP.

Point slack_sdk at `.api_url` (its `base_url`). Web API calls are recorded in `calls`;
failures, rate limits, hangs and resets can be scripted per method. `new_response_url()`
hands out response_urls whose posts land in `responses`. A Socket Mode client that calls
`apps.connections.open` with the app token gets this fake's websocket URL; tests push
envelopes with `send_envelope()` and read acks from `acks`.

Workspaces (`slack_workspaces`): the fake starts with one, the default (`team_id`, its bot
token `bot_token`); `add_workspace()` adds more, each with its own bot token, bot user, people,
conversations and user groups (`set_user` / `set_channel` / `set_usergroup` take `team_id=`;
two workspaces may use the same ids). Every Web API call is answered from the workspace its
bearer token belongs to (`slack_tokens`): a revoked token gets `token_revoked`, an expired one
`token_expired`, one never issued `invalid_auth`. `calls_for(team)` lists the calls made with
a team's token; `wrong_team_calls(team)` those made for a team's things with another's token
(`slack_calls`). Installing ("Add to Slack", `oauth.v2.access`, token rotation) and Sign in
with Slack are in `slack_oauth`; `uninstall(team)` revokes a workspace's tokens.

Conversations: a channel nobody declared is a public channel; a `D…` id is the DM with the
user after the `D`. `set_channel()` declares one private (or a group DM / DM) with its members,
`set_members()` / `add_member()` / `remove_member()` change who is in it; `conversations.info`,
`conversations.members` (paginated) and `users.conversations` answer from that. A channel,
user or user group declared only in another workspace is not found.

Modals (`slack_modals`): `new_trigger_id(user_id)` issues the trigger ids the driver's clicks and
commands carry; `views.open` / `views.push` need one (used once, within `trigger_ttl` seconds),
`views.update` finds the view by id; each is a record in `views`, awaited with
`wait_for_view()`; `close_view()` is the person closing one. User groups: `set_usergroup()`
declares one with its members, answered by `usergroups.list` and `usergroups.users.list`
(both need the `usergroups:read` scope).

`hold(method, **match)` keeps a method's answers back until the test releases them: a slow
Slack, scripted without sleeping (the call is recorded when it arrives; it answers, and its
effect lands, only after `release()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import WSMsgType, web

from .server import LoopbackServer, Reply, send_reply
from .slack_calls import ApiCall, SlackHold, owners_of
from .slack_methods import SlackMethods, flag, missing_scope
from .slack_modals import FakeView, Modals
from .slack_oauth import InstallGrant, SignedIn, SlackOAuth, basic_auth
from .slack_tokens import FakeToken, TokenBook
from .slack_workspaces import (
    CONVERSATION_TYPES,
    DEFAULT_EXPIRES_IN,
    FakeWorkspace,
    SlackChannel,
    SlackUser,
    SlackUsergroup,
)

JSON_PARAMS = ("blocks", "attachments", "view", "metadata")
# Methods that answer `missing_scope` when the bot token lacks this scope.
SCOPE_NEEDED = {"usergroups.list": "usergroups:read", "usergroups.users.list": "usergroups:read"}
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
# What a Sign in with Slack token may call (anything else: missing_scope).
OIDC_METHODS = ("openid.connect.userInfo", "auth.test", "auth.revoke")

__all__ = [
    "CONVERSATION_TYPES",
    "ApiCall",
    "FakeSlack",
    "FakeWorkspace",
    "SlackChannel",
    "SlackHold",
    "SlackUser",
    "SlackUsergroup",
]


class FakeSlack(SlackMethods):
    """Fake slack.com. `await start()`, then use `.api_url` as the bot's SLACK_API_URL."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-bot-token",
        signing_secret: str = "test-signing-secret",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        app_token: str = "xapp-test-app-token",
    ) -> None:
        self.signing_secret = signing_secret
        self.team_id = team_id  # the default workspace
        self.app_id = "A1"
        self.app_token = app_token
        # The app's OAuth credentials and its configured Redirect URL (used when an authorize
        # request names none).
        self.client_id = "1000000001.2000000002"
        self.client_secret = "fake-client-secret"
        self.oauth_redirect_url: str | None = None
        self.tokens = TokenBook()
        self.workspaces: dict[str, FakeWorkspace] = {}
        self.enterprises: dict[str, str] = {}  # Enterprise Grid org id → name
        self.oauth = SlackOAuth(self)
        default = FakeWorkspace(team_id, "Fake", "fake", bot_user_id, "BBOT")
        self.workspaces[team_id] = default
        self.tokens.add(FakeToken(bot_token, "bot", team_id, bot_user_id))
        default.bot_token = bot_token
        self.calls: list[ApiCall] = []
        self.modals = Modals(team_id, self.app_id, "BBOT")
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.message_teams: dict[tuple[str, str], str] = {}  # (channel, ts) → its workspace
        self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.acks: dict[str, dict[str, Any]] = {}
        self.sent_envelopes: list[dict[str, Any]] = []
        # Arrival times (time.monotonic()) of response_url posts, and optional hooks called
        # as each response_url post or Web API call is recorded (benchmarks time replies).
        self.response_times: dict[str, list[float]] = defaultdict(list)
        self.on_response: Callable[[str, dict[str, Any]], None] | None = None
        self.on_call: Callable[[ApiCall], None] | None = None
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._holds: list[SlackHold] = []
        self._expected: list[str] = []
        self._response_failures: deque[Reply] = deque()
        self._response_count = 0
        self._ts_seq = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._changed: asyncio.Condition | None = None
        self._server = LoopbackServer(self._make_app())

    # -- the default workspace, as a single-workspace test sees the fake -----------------

    @property
    def default(self) -> FakeWorkspace:
        """The workspace the fake started with (`team_id`)."""
        return self.workspaces[self.team_id]

    @property
    def bot_token(self) -> str:
        """The default workspace's bot token."""
        return self.default.bot_token

    @bot_token.setter
    def bot_token(self, token: str) -> None:
        self.tokens.add(FakeToken(token, "bot", self.team_id, self.default.bot_user_id))
        self.default.bot_token = token

    @property
    def bot_user_id(self) -> str:
        return self.default.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.default.bot_id

    @property
    def bot_scopes(self) -> list[str]:
        """The scopes the default workspace's bot token has (every answer names them in
        `x-oauth-scopes`): by default those manifest.yml asks for. A test may take some away."""
        return self.default.bot_scopes

    @bot_scopes.setter
    def bot_scopes(self, scopes: list[str]) -> None:
        self.default.bot_scopes = list(scopes)

    @property
    def users(self) -> dict[str, SlackUser]:
        return self.default.users

    @property
    def channels(self) -> dict[str, SlackChannel]:
        return self.default.channels

    @property
    def usergroups(self) -> dict[str, SlackUsergroup]:
        return self.default.usergroups

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:54321``."""
        return self._server.url

    @property
    def api_url(self) -> str:
        """Web API base URL with trailing slash (slack_sdk `base_url`)."""
        return self.url + "/api/"

    @property
    def authorize_url(self) -> str:
        """Where "Add to Slack" sends the browser (Slack's `/oauth/v2/authorize`)."""
        return self.url + "/oauth/v2/authorize"

    @property
    def oidc_authorize_url(self) -> str:
        """Where "Sign in with Slack" sends the browser (`/openid/connect/authorize`)."""
        return self.url + "/openid/connect/authorize"

    @property
    def socket_url(self) -> str:
        """The websocket URL apps.connections.open hands out."""
        return self.url.replace("http://", "ws://", 1) + "/socket"

    async def start(self) -> str:
        self._changed = asyncio.Condition()
        return await self._server.start()

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.close(code=1001, message=b"server stopping"), 0.5)
        await self._server.stop()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- workspaces, installs and tokens -----------------------------------------------

    def add_workspace(
        self,
        team_id: str,
        name: str | None = None,
        enterprise_id: str | None = None,
        *,
        enterprise_name: str | None = None,
        domain: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        rotation: bool = False,
        expires_in: int = DEFAULT_EXPIRES_IN,
        installed: bool = True,
    ) -> FakeWorkspace:
        """A workspace `team_id` (again: the one there is). Installed (the default), it has a
        bot token now (`ws.bot_token`; with `rotation`, one that expires in `expires_in`
        seconds, and `ws.refresh_token`); else it gets one when it installs the app."""
        if team_id in self.workspaces:
            return self.workspaces[team_id]
        if enterprise_id is not None:
            self.enterprises.setdefault(enterprise_id, enterprise_name or f"Org {enterprise_id}")
        ws = FakeWorkspace(
            team_id,
            name or f"Workspace {team_id}",
            domain or team_id.lower(),
            bot_user_id or f"UBOT{team_id}",
            bot_id or f"BBOT{team_id}",
            enterprise_id,
            self.enterprises.get(enterprise_id) if enterprise_id else None,
            rotation,
            expires_in,
            installed=False,
        )
        self.workspaces[team_id] = ws
        if installed:
            self.install_tokens(ws, ws.bot_scopes)
        return ws

    def workspace(self, team_id: str | None = None, *, create: bool = False) -> FakeWorkspace:
        """Workspace `team_id` (the default one when None); with `create`, made (not yet
        installed) if it is new."""
        team_id = team_id or self.team_id
        if team_id not in self.workspaces:
            if create:
                return self.add_workspace(team_id, installed=False)
            raise KeyError(f"no workspace {team_id!r} in the fake Slack: add_workspace() it first")
        return self.workspaces[team_id]

    def install_tokens(self, ws: FakeWorkspace, scopes: list[str]) -> dict[str, Any]:
        """Install the app into `ws`: its bot token (the live one it has, or a new one; with
        rotation, always a new expiring one and a refresh token), as oauth.v2.access names
        them."""
        ws.installed = True
        live, _ = self.tokens.check(ws.bot_token)
        if ws.rotation or live is None or live.error():
            return self.rotate_tokens(ws, scopes)
        return self._token_answer(ws, live, scopes)

    def rotate_tokens(self, ws: FakeWorkspace, scopes: list[str] | None = None) -> dict[str, Any]:
        """A new bot token for `ws` (and, with rotation, a new refresh token); the old
        access token keeps working until it expires."""
        scopes = list(scopes or ws.bot_scopes)
        expires_in = ws.expires_in if ws.rotation else None
        token = self.tokens.issue_bot(
            ws.team_id,
            ws.bot_user_id,
            scopes,
            enterprise_id=ws.enterprise_id,
            expires_in=expires_in,
        )
        ws.bot_token = token.token
        if ws.rotation:
            ws.refresh_token = self.tokens.issue_refresh(ws.team_id, ws.enterprise_id).token
        return self._token_answer(ws, token, scopes)

    def _token_answer(
        self, ws: FakeWorkspace, token: FakeToken, scopes: list[str]
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": token.token,
            "token_type": "bot",
            "scope": ",".join(scopes),
            "bot_user_id": ws.bot_user_id,
        }
        if ws.rotation:
            answer["refresh_token"] = ws.refresh_token
            answer["expires_in"] = token.expires_in()
        return answer

    def next_install(
        self,
        team_id: str | None = None,
        *,
        enterprise_id: str | None = None,
        org: bool = False,
        installer: str = "U1",
    ) -> None:
        """The next "Add to Slack" installs into workspace `team_id` (made if new; default:
        the one the authorize request's `team` names, else the default workspace), or, with
        `org`, org-wide into Enterprise Grid org `enterprise_id`; `installer` presses Allow."""
        if org and not enterprise_id:
            raise ValueError("an org-wide install needs enterprise_id")
        self.oauth.next_install(InstallGrant(team_id, enterprise_id, org, installer))

    def deny_next_install(self) -> None:
        """The next "Add to Slack" is refused (`?error=access_denied`)."""
        self.oauth.next_install(InstallGrant(deny=True))

    def sign_in_as(self, team_id: str | None, user_id: str | None = None) -> None:
        """Who is signed in to Slack in the browser (Sign in with Slack signs in as them);
        `sign_in_as(None)`: nobody (it answers `error=access_denied`)."""
        if team_id is None or user_id is None:
            self.oauth.signed_in = None
            return
        self.workspace(team_id, create=True)
        self.oauth.signed_in = SignedIn(team_id, user_id)

    def uninstall(self, team_id: str) -> dict[str, list[str]]:
        """The workspace uninstalls the app: every token of it revoked (bot, user, refresh).
        Returns what the `tokens_revoked` event names: `{"oauth": [...], "bot": [...]}`."""
        ws = self.workspace(team_id)
        ws.installed = False
        return self.tokens.revoke_team(team_id)

    def expire_token(self, token: str) -> None:
        """Make an access token expired now (`token_expired`), without waiting."""
        self.tokens.tokens[token].expired = True

    def token(self, token: str) -> FakeToken | None:
        """What the fake knows of a token it issued (team, kind, revoked, expiry)."""
        return self.tokens.tokens.get(token)

    @property
    def install_requests(self) -> list[dict[str, str]]:
        """The query of every "Add to Slack" authorize visit, in order."""
        return self.oauth.install_requests

    @property
    def sign_in_requests(self) -> list[dict[str, str]]:
        """The query of every Sign in with Slack authorize visit, in order."""
        return self.oauth.sign_in_requests

    # -- setup and scripting ---------------------------------------------------------

    def set_user(
        self,
        user_id: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        display_name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        team_id: str | None = None,
    ) -> SlackUser:
        """Declare a user (of workspace `team_id`, by default the default one): `name` is
        their handle; the display name and real name (their own choice, anyone may copy
        them) default to it; the email to `<id>@example.com`."""
        ws = self.workspace(team_id)
        user = SlackUser(
            user_id,
            ws.team_id,
            name or user_id.lower(),
            is_admin,
            is_owner,
            is_bot,
            deleted,
            display_name,
            real_name,
            email,
        )
        ws.users[user_id] = user
        return user

    def set_channel(
        self,
        channel_id: str,
        *,
        private: bool = True,
        members=(),
        type: str | None = None,
        team_id: str | None = None,
    ) -> SlackChannel:
        """Declare a conversation (of workspace `team_id`): private (default) or public, or
        `type` (`mpim`, `im`, …) with these members. The bot is always a member."""
        kind = type or ("private_channel" if private else "public_channel")
        if kind not in CONVERSATION_TYPES:
            raise ValueError(f"unknown conversation type {kind!r}; one of {CONVERSATION_TYPES}")
        ws = self.workspace(team_id)
        channel = SlackChannel(channel_id, kind, bot_user_id=ws.bot_user_id)
        ws.channels[channel_id] = channel
        ws.set_members(channel_id, members)
        return channel

    def set_members(self, channel_id: str, members, team_id: str | None = None) -> None:
        """Who is in `channel_id` now (the bot stays in)."""
        self.workspace(team_id).set_members(channel_id, members)

    def add_member(self, channel_id: str, user_id: str, team_id: str | None = None) -> None:
        channel = self.channel(channel_id, team_id)
        if user_id not in channel.members:
            channel.members.append(user_id)

    def remove_member(self, channel_id: str, user_id: str, team_id: str | None = None) -> None:
        channel = self.channel(channel_id, team_id)
        if user_id != channel.bot_user_id and user_id in channel.members:
            channel.members.remove(user_id)

    def channel(self, channel_id: str, team_id: str | None = None) -> SlackChannel:
        """The conversation as this fake sees it (declared, or the default for the id)."""
        return self.workspace(team_id).channel(channel_id)

    def set_usergroup(
        self,
        group_id: str,
        *,
        handle: str,
        users=(),
        name: str | None = None,
        disabled: bool = False,
        team_id: str | None = None,
    ) -> SlackUsergroup:
        """Declare a user group `@handle` with these members (again: replace it). A disabled
        group is left out of usergroups.list and answers `no_such_subteam` to
        usergroups.users.list, unless asked with `include_disabled`."""
        ws = self.workspace(team_id)
        group = SlackUsergroup(
            group_id, ws.team_id, handle, name or handle.title(), list(users), disabled
        )
        ws.usergroups[group_id] = group
        return group

    # -- modals ----------------------------------------------------------------------

    @property
    def views(self) -> list[FakeView]:
        """Every view opened, pushed or updated, in order (one record each)."""
        return self.modals.views

    @property
    def trigger_ttl(self) -> float | None:
        """How long a trigger id can open a modal, in seconds (None: for ever)."""
        return self.modals.ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float | None) -> None:
        self.modals.ttl = seconds

    def new_trigger_id(self, user_id: str = "U1", team_id: str | None = None) -> str:
        """A trigger id for an interaction by `user_id` in workspace `team_id` (what a click
        or command carries); only that workspace's bot token can open a modal with it."""
        return self.modals.new_trigger_id(user_id, team_id or self.team_id)

    def expire_trigger(self, trigger_id: str) -> None:
        """Make a trigger id too old to open a modal (`expired_trigger_id`), now."""
        self.modals.expire_trigger(trigger_id)

    def view(self, view_id: str) -> FakeView | None:
        """View `view_id` as it is now (its latest open, push or update)."""
        return self.modals.current(view_id)

    def last_view(
        self, user_id: str, callback_id: str | None = None, team_id: str | None = None
    ) -> FakeView | None:
        """The modal `user_id` (of workspace `team_id`, if given) has in front of them now
        (with `callback_id`, if given)."""
        return self.modals.last(user_id, callback_id, team_id)

    async def close_view(self, view_id: str) -> None:
        """The person closed view `view_id` (its close button): they see the view under it, if
        one was pushed over another, else none. (No `view_closed` is sent to the app: that
        needs `notify_on_close`, which the bot's modals don't ask for.)"""
        self.modals.closed.add(view_id)
        await self._notify()

    async def view_answered(self, view_id: str, user_id: str, ack: dict[str, Any] | None) -> None:
        """Apply the app's ack of a submission of `view_id` as Slack would (the driver calls
        this): `errors` keep the modal, `update`/`push` change it, else it closes."""
        self.modals.answered(view_id, user_id, ack)
        await self._notify()

    def script(self, method: str, *replies: Reply) -> None:
        """Queue raw replies for a Web API method (hangs, resets, odd bodies)."""
        self._scripts[method].extend(replies)

    def hold(self, method: str, count: int | None = None, **match: str) -> SlackHold:
        """Hold calls to `method` (whose params have `match`'s values; the first `count` of
        them, or all) until `release()` on what this returns. Calls held answer in order."""
        held = SlackHold(method, {k: str(v) for k, v in match.items()}, count)
        self._holds.append(held)
        return held

    def fail(
        self, method: str, error: str = "channel_not_found", status: int = 200, times: int = 1
    ) -> None:
        """Next `times` calls answer `{"ok": false, "error": error}` (HTTP 200 by default)."""
        for _ in range(times):
            self.script(method, Reply(status=status, json={"ok": False, "error": error}))

    def fail_http(self, method: str, status: int = 500, times: int = 1) -> None:
        """Next `times` calls answer a bare HTTP error with a non-JSON body."""
        for _ in range(times):
            self.script(
                method,
                Reply(status=status, body="Internal Server Error", content_type="text/plain"),
            )

    def ratelimit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Next `times` calls answer HTTP 429 with `Retry-After`."""
        for _ in range(times):
            reply = Reply(
                status=429,
                json={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(retry_after)},
            )
            self.script(method, reply)

    def fail_response(self, status: int = 500, times: int = 1) -> None:
        """Next `times` posts to any response_url fail with `status` (not recorded)."""
        for _ in range(times):
            self._response_failures.append(
                Reply(status=status, body="error", content_type="text/plain")
            )

    def new_response_url(self) -> str:
        self._response_count += 1
        return f"{self.url}/response/{self._response_count}"

    # -- inspection and waiting ------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def calls_for(self, team_id: str, method: str | None = None) -> list[ApiCall]:
        """The calls made with a token of workspace `team_id` (live, revoked or expired),
        to `method` if given."""
        return [
            c
            for c in self.calls
            if c.token_team == team_id and (method is None or c.method == method)
        ]

    def wrong_team_calls(self, team_id: str | None = None) -> list[ApiCall]:
        """Calls made for one workspace's things with another's token (or none that works
        for it): a trigger, view or message of team B, a channel / user / user group declared
        only in team B, or anything inside `expect_team(B)`, but not B's token. With
        `team_id`, only the calls for that team: `assert not fake.wrong_team_calls("TB")` is
        "every call for team B carried B's token"."""
        return [c for c in self.calls if c.wrong_team and (team_id is None or c.is_for(team_id))]

    @contextlib.contextmanager
    def expect_team(self, team_id: str) -> Iterator[None]:
        """Every Web API call arriving inside this block is for workspace `team_id`: one
        made with another's token is a wrong-team call (`wrong_team_calls`)."""
        self._expected.append(team_id)
        try:
            yield
        finally:
            self._expected.remove(team_id)

    def messages_in(
        self, team_id: str | None = None, channel: str | None = None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The messages posted with workspace `team_id`'s tokens (in `channel`, if given)."""
        team_id = team_id or self.team_id
        return {
            key: message
            for key, message in self.messages.items()
            if self.message_teams.get(key) == team_id and (channel is None or key[0] == channel)
        }

    async def wait_for_responses(
        self, url: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until `count` bodies were posted to `url`; returns them all."""
        await self._wait(
            lambda: len(self.responses.get(url, [])) >= count,
            timeout,
            lambda: f"expected {count} response(s) at {url}, got {self.responses.get(url, [])}",
        )
        return list(self.responses[url])

    async def wait_for_call(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[ApiCall]:
        """Wait until `method` was called `count` times; returns those calls."""
        await self._wait(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            lambda: f"expected {count} {method} call(s), got {self.calls_to(method)}",
        )
        return self.calls_to(method)

    async def wait_for_view(
        self,
        user_id: str | None = None,
        callback_id: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        team_id: str | None = None,
    ) -> list[FakeView]:
        """Wait until `count` views (opens, pushes and updates, each one) were shown to
        `user_id` with `callback_id` (in workspace `team_id`; each, if None: any); returns
        those records."""
        await self._wait(
            lambda: len(self.modals.matching(user_id, callback_id, team_id)) >= count,
            timeout,
            lambda: (
                f"expected {count} view(s) for user {user_id} with callback_id {callback_id}, "
                f"got {[(v.method, v.user_id, v.callback_id) for v in self.views]}"
            ),
        )
        return self.modals.matching(user_id, callback_id, team_id)

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected."""
        await self._wait(lambda: bool(self._sockets), timeout, lambda: "no socket client connected")

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the client's ack of `envelope_id`; returns the ack message."""
        await self._wait(
            lambda: envelope_id in self.acks,
            timeout,
            lambda: f"no ack for {envelope_id}; acks so far: {list(self.acks)}",
        )
        return self.acks[envelope_id]

    async def _wait(
        self, ready: Callable[[], bool], timeout: float, describe: Callable[[], str]
    ) -> None:
        cond = self._condition()
        async with cond:
            try:
                await asyncio.wait_for(cond.wait_for(ready), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout}s: {describe()}") from None

    async def _notify(self) -> None:
        cond = self._condition()
        async with cond:
            cond.notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    # -- Socket Mode -----------------------------------------------------------------

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def send_envelope(
        self, type: str, payload: dict[str, Any], accepts_response_payload: bool = True
    ) -> str:
        """Push an envelope to the newest connected client; returns its envelope_id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type!r}; expected one of {ENVELOPE_TYPES}")
        if not self._sockets:
            raise RuntimeError("no Socket Mode client connected")
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        self.sent_envelopes.append(envelope)
        await self._sockets[-1].send_json(envelope)
        return envelope["envelope_id"]

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask connected clients to reconnect, as Slack does before rotating hosts."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        for ws in list(self._sockets):
            await ws.send_json(message)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await self._notify()
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 3600,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks[str(data["envelope_id"])] = data
                    await self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    # -- Web API ---------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{n}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/oauth/v2/authorize", self.oauth.authorize)
        app.router.add_get("/openid/connect/authorize", self.oauth.oidc_authorize)
        return app

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request) or params.pop("token", None)
        call = ApiCall(method, params, token, time.monotonic())
        call.client = basic_auth(request.headers.get("Authorization", ""))
        record, error = self.tokens.check(token)
        call.token_team = record.team_id if record is not None else None
        call.team_id = call.token_team if not error else None
        call.owners = owners_of(params, self)
        call.expected_team = self._expected[-1] if self._expected else None
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        await self._notify()
        for held in [h for h in self._holds if h.takes(call)]:
            await held.released.wait()
        queue = self._scripts[method]
        if queue:
            reply = queue.popleft()
        else:  # Slack names the token's scopes on every answer
            answer, scopes = self._default(call)
            reply = Reply(json=answer, headers={"x-oauth-scopes": ",".join(scopes)})
            await self._notify()  # its effect (a message, a view) is in place
        return await send_reply(request, reply)

    def _default(self, call: ApiCall) -> tuple[dict[str, Any], list[str]]:
        """The answer to `call` (checked as it is now, after any hold), and the scopes the
        answer names."""
        method, params = call.method, call.params
        if method == "apps.connections.open":
            if call.token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}, self.bot_scopes
            return {"ok": True, "url": self.socket_url}, self.bot_scopes
        if method == "oauth.v2.access":
            return self.oauth.access(params, call.client), []
        if method == "openid.connect.token":
            return self.oauth.oidc_token(params, call.client), []
        record, error = self.tokens.check(call.token)
        if record is None or error:
            return {"ok": False, "error": error}, self.bot_scopes
        if method == "auth.revoke":
            if not flag(params.get("test")):
                self.tokens.revoke(record.token)
            return {"ok": True, "revoked": not flag(params.get("test"))}, record.scopes
        if record.team_id is None:  # an org-wide install's token
            return self._org_answer(record, method), record.scopes
        ws = self.workspaces[record.team_id]
        scopes = ws.bot_scopes if record.kind == "bot" else record.scopes
        if method == "openid.connect.userInfo":
            return self.oauth.user_info(record), scopes
        if method == "auth.test":
            return self._auth_test(ws, record), scopes
        if record.kind == "oidc" and method not in OIDC_METHODS:
            return missing_scope("chat:write", scopes), scopes
        needed = SCOPE_NEEDED.get(method)
        if needed and needed not in scopes:
            return missing_scope(needed, scopes), scopes
        if method in ("views.open", "views.push"):  # the trigger is checked as it arrived
            return self.modals.open(params, call.time, method, ws.team_id, ws.bot_id), scopes
        handler = self._methods().get(method)
        return (handler(ws, params) if handler else {"ok": True}), scopes

    # -- response_url ----------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        if self._response_failures:
            return await send_reply(request, self._response_failures.popleft())
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        url = f"{self.url}{request.path}"
        self.responses[url].append(body)
        self.response_times[url].append(time.monotonic())
        if self.on_response is not None:
            self.on_response(url, body)
        await self._notify()
        return web.Response(text="ok", content_type="text/html")


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() != "bearer ":
        return None
    return auth[7:].strip() or None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string, form and JSON bodies; decode JSON-string block params."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update((await request.post()).items())
    for key in JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.startswith(("[", "{")):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params
