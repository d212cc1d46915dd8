"""A fake Slack: Web API, response_url endpoints and a Socket Mode websocket, over HTTP.

Point slack_sdk at `.api_url` (its `base_url`). Web API calls are recorded in `calls`;
failures, rate limits, hangs and resets can be scripted per method. `new_response_url()`
hands out response_urls whose posts land in `responses`. A Socket Mode client that calls
`apps.connections.open` with the app token gets this fake's websocket URL; tests push
envelopes with `send_envelope()` and read acks from `acks`.

Conversations: a channel nobody declared is a public channel; a `D…` id is the DM with the
user after the `D`. `set_channel()` declares one private (or a group DM / DM) with its members,
`set_members()` / `add_member()` / `remove_member()` change who is in it; `conversations.info`,
`conversations.members` (paginated) and `users.conversations` answer from that.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.slack.scopes import BOT_SCOPES

from .server import LoopbackServer, Reply, send_reply
from .slack_modals import FakeView, Modals

JSON_PARAMS = ("blocks", "attachments", "view", "metadata")
# Methods that answer `missing_scope` when the bot token lacks this scope.
SCOPE_NEEDED = {"usergroups.list": "usergroups:read", "usergroups.users.list": "usergroups:read"}
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


@dataclass
class ApiCall:
    """One Web API call: method name, merged query/form/JSON params, bearer token."""

    method: str
    params: dict[str, Any]
    token: str | None
    time: float = 0.0


@dataclass
class SlackUser:
    """What users.info returns for one user. `name` is the handle (unique in the workspace);
    the display name and real name are the person's own choice and default to the handle;
    the email is in `profile.email` only while the bot has `users:read.email`."""

    id: str
    team_id: str
    name: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    display_name: str | None = None
    real_name: str | None = None
    email: str | None = None

    def to_json(self, with_email: bool = True) -> dict[str, Any]:
        real_name = self.name.title() if self.real_name is None else self.real_name
        display_name = self.name if self.display_name is None else self.display_name
        profile = {"real_name": real_name, "display_name": display_name}
        if with_email and not self.is_bot:
            profile["email"] = (
                self.email if self.email is not None else f"{self.id.lower()}@example.com"
            )
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_bot": self.is_bot,
            "tz": "UTC",
            "profile": profile,
        }


@dataclass
class SlackHold:
    """Web API calls to one method held back until `release()`: Slack being slow, to script
    races. `match` keeps only calls whose params have those values (e.g. `channel="C1"`);
    `count` how many of them are held (later ones answer at once). A held call is recorded
    when it arrives and answers as usual, with whatever is scripted by then, once released.
    """

    method: str
    match: dict[str, str]
    count: int | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def takes(self, call: ApiCall) -> bool:
        """Whether this hold keeps `call` back (and counts it if so)."""
        if call.method != self.method or self.released.is_set():
            return False
        if any(str(call.params.get(k)) != v for k, v in self.match.items()):
            return False
        if self.count is not None and self.held >= self.count:
            return False
        self.held += 1
        self.arrived.set()
        return True

    async def wait_arrived(self, timeout: float = 5.0) -> None:
        """Until a matching call is being held."""
        await asyncio.wait_for(self.arrived.wait(), timeout)

    def release(self) -> None:
        self.released.set()


@dataclass
class SlackUsergroup:
    """One user group (`@handle`): what usergroups.list says of it, and its members."""

    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False

    def to_json(self, with_users: bool = False, with_count: bool = False) -> dict[str, Any]:
        group: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": "",
            "handle": self.handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 1700000001 if self.disabled else 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": "USLACKBOT" if self.disabled else None,
            "prefs": {"channels": [], "groups": []},
        }
        if with_users:
            group["users"] = list(self.users)
        if with_count:
            group["user_count"] = len(self.users)
        return group


CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")


@dataclass
class SlackChannel:
    """One conversation as conversations.info describes it, with its members."""

    id: str
    type: str = "public_channel"  # one of CONVERSATION_TYPES
    members: list[str] = field(default_factory=list)
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "created": 1700000000,
            "is_archived": False,
            "is_channel": self.type in ("public_channel", "private_channel"),
            "is_group": False,
            "is_im": self.type == "im",
            "is_mpim": self.type == "mpim",
            "is_private": self.type != "public_channel",
        }
        if self.type == "im":
            others = [m for m in self.members if m != "UBOT"]
            info["user"] = others[0] if others else ""
        else:
            info["name"] = self.name or self.id.lower()
            info["is_member"] = True
        return info


class FakeSlack:
    """Fake slack.com. `await start()`, then use `.api_url` as the bot's SLACK_API_URL."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-bot-token",
        signing_secret: str = "test-signing-secret",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        app_token: str = "xapp-test-app-token",
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "BBOT"
        self.app_id = "A1"
        self.app_token = app_token
        # The scopes the bot token has (every answer names them in `x-oauth-scopes`): by
        # default those manifest.yml asks for. A test may take some away.
        self.bot_scopes: list[str] = list(BOT_SCOPES)
        self.calls: list[ApiCall] = []
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, SlackChannel] = {}
        self.usergroups: dict[str, SlackUsergroup] = {}
        self.modals = Modals(team_id, self.app_id, self.bot_id)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
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
        self._response_failures: deque[Reply] = deque()
        self._response_count = 0
        self._ts_seq = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._changed: asyncio.Condition | None = None
        self._server = LoopbackServer(self._make_app())

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
    ) -> SlackUser:
        """Declare a user: `name` is their handle; the display name and real name (their own
        choice, anyone may copy them) default to it; the email to `<id>@example.com`."""
        user = SlackUser(
            user_id,
            self.team_id,
            name or user_id.lower(),
            is_admin,
            is_owner,
            is_bot,
            deleted,
            display_name,
            real_name,
            email,
        )
        self.users[user_id] = user
        return user

    def set_channel(
        self, channel_id: str, *, private: bool = True, members=(), type: str | None = None
    ) -> SlackChannel:
        """Declare a conversation: private (default) or public, or `type` (`mpim`, `im`,
        …) with these members. The bot is always a member."""
        kind = type or ("private_channel" if private else "public_channel")
        if kind not in CONVERSATION_TYPES:
            raise ValueError(f"unknown conversation type {kind!r}; one of {CONVERSATION_TYPES}")
        channel = SlackChannel(channel_id, kind)
        self.channels[channel_id] = channel
        self.set_members(channel_id, members)
        return channel

    def set_members(self, channel_id: str, members) -> None:
        """Who is in `channel_id` now (the bot stays in)."""
        channel = self.channel(channel_id)
        channel.members = [self.bot_user_id, *(m for m in members if m != self.bot_user_id)]

    def add_member(self, channel_id: str, user_id: str) -> None:
        channel = self.channel(channel_id)
        if user_id not in channel.members:
            channel.members.append(user_id)

    def remove_member(self, channel_id: str, user_id: str) -> None:
        channel = self.channel(channel_id)
        if user_id != self.bot_user_id and user_id in channel.members:
            channel.members.remove(user_id)

    def channel(self, channel_id: str) -> SlackChannel:
        """The conversation as this fake sees it (declared, or the default for the id)."""
        if channel_id in self.channels:
            return self.channels[channel_id]
        if channel_id.startswith("D") and len(channel_id) > 1:
            return SlackChannel(channel_id, "im", [self.bot_user_id, channel_id[1:]])
        members = [self.bot_user_id, *(u for u in self.users if u != self.bot_user_id)]
        return SlackChannel(channel_id, "public_channel", members)

    def set_usergroup(
        self,
        group_id: str,
        *,
        handle: str,
        users=(),
        name: str | None = None,
        disabled: bool = False,
    ) -> SlackUsergroup:
        """Declare a user group `@handle` with these members (again: replace it). A disabled
        group is left out of usergroups.list and answers `no_such_subteam` to
        usergroups.users.list, unless asked with `include_disabled`."""
        group = SlackUsergroup(
            group_id, self.team_id, handle, name or handle.title(), list(users), disabled
        )
        self.usergroups[group_id] = group
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

    def new_trigger_id(self, user_id: str = "U1") -> str:
        """A trigger id for an interaction by `user_id` (what a click or command carries)."""
        return self.modals.new_trigger_id(user_id)

    def expire_trigger(self, trigger_id: str) -> None:
        """Make a trigger id too old to open a modal (`expired_trigger_id`), now."""
        self.modals.expire_trigger(trigger_id)

    def view(self, view_id: str) -> FakeView | None:
        """View `view_id` as it is now (its latest open, push or update)."""
        return self.modals.current(view_id)

    def last_view(self, user_id: str, callback_id: str | None = None) -> FakeView | None:
        """The modal `user_id` has in front of them now (with `callback_id`, if given)."""
        return self.modals.last(user_id, callback_id)

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
    ) -> list[FakeView]:
        """Wait until `count` views (opens, pushes and updates, each one) were shown to
        `user_id` with `callback_id` (either: any); returns those records."""
        await self._wait(
            lambda: len(self.modals.matching(user_id, callback_id)) >= count,
            timeout,
            lambda: (
                f"expected {count} view(s) for user {user_id} with callback_id {callback_id}, "
                f"got {[(v.method, v.user_id, v.callback_id) for v in self.views]}"
            ),
        )
        return self.modals.matching(user_id, callback_id)

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
        return app

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request) or params.pop("token", None)
        call = ApiCall(method, params, token, time.monotonic())
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
            reply = Reply(
                json=self._default(call),
                headers={"x-oauth-scopes": ",".join(self.bot_scopes)},
            )
            await self._notify()  # its effect (a message, a view) is in place
        return await send_reply(request, reply)

    def _default(self, call: ApiCall) -> dict[str, Any]:
        method, params = call.method, call.params
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if call.token != expected:
            return {"ok": False, "error": "invalid_auth"}
        needed = SCOPE_NEEDED.get(method)
        if needed and needed not in self.bot_scopes:
            provided = ",".join(self.bot_scopes)
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided}
        if method in ("views.open", "views.push"):  # the trigger is checked as it arrived
            return self.modals.open(params, call.time, method)
        handler = self._methods().get(method)
        return handler(params) if handler else {"ok": True}

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.publish": self._views_publish,
            "views.update": self.modals.update,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "users.conversations": self._users_conversations,
            "apps.connections.open": self._connections_open,
        }

    def _next_ts(self) -> str:
        self._ts_seq += 1
        micros = self._ts_seq * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "tiktokcancel",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
        }

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "ts": ts}
        message["text"] = params.get("text", "")
        for key in ("blocks", "attachments", "thread_ts"):
            if key in params:
                message[key] = params[key]
        return message

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = self._message(params, ts)
        self.messages[(str(channel), ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        message = self._message(params, ts)
        self.messages[(channel, ts)] = message
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") if isinstance(params.get("view"), dict) else {}
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        return {"ok": True, "view": {"id": view_id, "team_id": self.team_id, **view}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = self.users.get(user_id) or SlackUser(user_id, self.team_id, user_id.lower())
        return {"ok": True, "user": user.to_json(with_email="users:read.email" in self.bot_scopes)}

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with_disabled = _flag(params.get("include_disabled"))
        groups = [
            g.to_json(_flag(params.get("include_users")), _flag(params.get("include_count")))
            for g in self.usergroups.values()
            if with_disabled or not g.disabled
        ]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(params.get("usergroup") or ""))
        if group is None or (group.disabled and not _flag(params.get("include_disabled"))):
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group.users)}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        if not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users[0]}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self.channel(channel_id).to_json()}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channel(channel_id).members
        page, cursor = _page(members, params)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _users_conversations(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user") or self.bot_user_id)
        types = str(params.get("types") or "public_channel").split(",")
        found = [
            c.to_json() for c in self.channels.values() if c.type in types and user_id in c.members
        ]
        page, cursor = _page(found, params)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url}

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


def _flag(value: Any) -> bool:
    """A boolean Web API argument as Slack reads it (`true`, `1`, JSON true)."""
    return value is True or str(value).lower() in ("true", "1")


def _page(items: list, params: dict[str, Any]) -> tuple[list, str]:
    """One page of `items` by Slack's `limit` and `cursor` (here, an offset); next cursor."""
    try:
        limit = max(1, min(1000, int(params.get("limit") or 100)))
        start = max(0, int(params.get("cursor") or 0))
    except ValueError:
        return items[:100], ""
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")


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
