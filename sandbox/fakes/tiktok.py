"""A fake TikTok Open API (OAuth v2, user info, Content Posting cancel/status) over HTTP.

Speaks the wire formats in /work/shared/tiktok-api.md: the `{"data", "error"}` envelope
for API endpoints, the flat OAuth token JSON and the `{"error", "error_description"}`
OAuth error shape. State lives in plain attributes so tests (and the sandbox) can set
it up and inspect it; any endpoint can be scripted with `Reply` objects instead.

A cancel is best effort at TikTok: `ok` means it will try. By default an accepted cancel
ends the upload at once (FAILED, `publish_cancelled`); with `settle_cancels = False` it keeps
downloading (`cancel_requested`) until `cancel_outcome()` says how it ended. Public hooks:
`cancel_answer` decides the answer to a cancel before the default, `on_cancel` hears every
accepted cancel (the sandbox uses both to play TikTok's later word).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .server import LoopbackServer, Reply, send_reply

PATHS: dict[str, str] = {
    "token": "/v2/oauth/token/",
    "revoke": "/v2/oauth/revoke/",
    "user_info": "/v2/user/info/",
    "cancel": "/v2/post/publish/cancel/",
    "status": "/v2/post/publish/status/fetch/",
    "creator_info": "/v2/post/publish/creator_info/query/",
    "init": "/v2/post/publish/video/init/",
}
PRIVACY_PUBLIC = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
OAUTH_ENDPOINTS = frozenset({"token", "revoke"})
POSTING_SCOPES = frozenset({"video.upload", "video.publish"})
USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")

MESSAGES: dict[str, str] = {
    "access_token_invalid": "The access token is invalid or not found in the request.",
    "scope_not_authorized": (
        "The user did not authorize the scope required for completing this request."
    ),
    "invalid_params": "The request parameters are invalid.",
    "invalid_publish_id": "The publish_id does not exist.",
    "token_not_authorized_for_specified_publish_id": (
        "The access token is not authorized for the specified publish_id."
    ),
    "publish_not_cancellable": "The publish task is already final and cannot be cancelled.",
    "privacy_level_option_mismatch": "privacy_level is not one of the creator's options.",
}


def new_log_id() -> str:
    """A unique TikTok-style log id: UTC timestamp plus random uppercase hex."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def envelope_error(code: str, message: str | None = None) -> dict[str, Any]:
    """The API envelope's `error` object wrapped in a body: `{"error": {...}}`."""
    text = MESSAGES.get(code, code) if message is None else message
    return {"error": {"code": code, "message": text, "log_id": new_log_id()}}


def oauth_error(error: str, description: str) -> dict[str, str]:
    """The OAuth error shape: `{"error", "error_description", "log_id"}`."""
    return {"error": error, "error_description": description, "log_id": new_log_id()}


class Rejected(Exception):
    """Raised by a default handler to answer with an error reply."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.reply = Reply(status=status, json=body)


@dataclass
class Call:
    """One request the fake received, and what it answered."""

    path: str
    method: str
    body: dict[str, Any]
    token: str | None
    time: float
    name: str = ""
    query: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    status: int | None = None
    response: object | None = None


@dataclass
class Account:
    """A TikTok user who can authorize the app."""

    open_id: str
    display_name: str
    scope: str
    union_id: str = ""
    avatar_url: str = ""


@dataclass
class Grant:
    """An access token and its refresh token, as issued together."""

    open_id: str
    scope: str
    access_token: str
    refresh_token: str
    access_expires_at: float
    refresh_expires_at: float
    access_revoked: bool = False
    refresh_revoked: bool = False

    @property
    def scopes(self) -> set[str]:
        return {s.strip() for s in self.scope.split(",") if s.strip()}


@dataclass
class AuthCode:
    """A one-time authorization code, as the consent page would redirect with."""

    code: str
    open_id: str
    scope: str
    redirect_uri: str | None
    used: bool = False


@dataclass
class Upload:
    """A pull-from-URL publish task."""

    publish_id: str
    open_id: str
    status: str = "PROCESSING_DOWNLOAD"
    fail_reason: str | None = None
    downloaded_bytes: int = 0
    cancellable: bool = True
    post_ids: list[int] = field(default_factory=list)
    cancel_requested: bool = False  # TikTok said `ok` to a cancel and is trying


@dataclass
class Creator:
    """What creator_info answers for one TikTok user (§11.1)."""

    nickname: str = "Brand Social"
    username: str = "brandsocial"
    privacy_level_options: list[str] = field(default_factory=lambda: list(PRIVACY_PUBLIC))
    max_video_post_duration_sec: int = 600
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False


@dataclass
class Hold:
    """Requests to one endpoint held back until `release()`: to script races.

    `match` keeps only requests whose body has those fields (e.g. a refresh, not a code
    exchange, on the token endpoint). A held request answers as usual once released, with
    whatever is scripted by then.
    """

    name: str
    match: dict[str, str]
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def matches(self, name: str, body: dict[str, Any]) -> bool:
        return name == self.name and all(body.get(k) == v for k, v in self.match.items())

    async def wait_arrived(self, timeout: float = 5.0) -> None:
        """Until a matching request is being held."""
        await asyncio.wait_for(self.arrived.wait(), timeout)

    def release(self) -> None:
        self.released.set()


class FakeTikTok:
    """Fake `open.tiktokapis.com`. `await start()`, then point the bot at `.url`."""

    def __init__(self, client_key: str = "ck_test", client_secret: str = "cs_test_secret") -> None:
        self.client_key = client_key
        self.client_secret = client_secret
        self.access_ttl = 86400
        self.refresh_ttl = 31536000
        self.clock: Callable[[], float] = time.time
        self.calls: list[Call] = []
        self.users: dict[str, Account] = {}
        self.uploads: dict[str, Upload] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: list[Grant] = []
        self.revoked: list[str] = []
        self.refresh_count = 0
        # Seconds every unscripted cancel answer waits first (benchmarks; 0 = answer at once).
        self.cancel_latency_s = 0.0
        # An accepted cancel ends the upload at once; False: it waits for cancel_outcome().
        self.settle_cancels = True
        # Decides the answer to a cancel of a publish_id before the default (None: default).
        self.cancel_answer: Callable[[str], Reply | None] | None = None
        # Told (with the upload) after every cancel TikTok accepted, i.e. answered `ok`.
        self.on_cancel: list[Callable[[Upload], None]] = []
        # creator_info per open_id; a user without an entry answers the default Creator.
        self.creators: dict[str, Creator] = {}
        self.init_count = 0
        self._by_access: dict[str, Grant] = {}
        self._by_refresh: dict[str, Grant] = {}
        self._secrets: list[str] = [client_secret]
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._holds: list[Hold] = []
        self._server = LoopbackServer(self._make_app())

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL without a trailing slash; the bot appends `/v2/...` paths."""
        return self._server.url

    async def start(self) -> str:
        return await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> FakeTikTok:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- setup -----------------------------------------------------------------------

    def add_user(
        self,
        open_id: str = "open-1",
        display_name: str = "Brand Social",
        scope: str = "user.info.basic,video.upload,video.publish",
    ) -> Account:
        account = Account(
            open_id=open_id,
            display_name=display_name,
            scope=scope,
            union_id=f"union-{open_id}",
            avatar_url=f"https://p16.tiktokcdn.example/{open_id}.jpeg",
        )
        self.users[open_id] = account
        return account

    def issue_code(
        self, open_id: str = "open-1", scope: str | None = None, redirect_uri: str | None = None
    ) -> str:
        """A one-time authorization code for `open_id` (the user must exist).

        With `redirect_uri`, the token exchange must send exactly that URI.
        """
        account = self.users[open_id]
        code = "code." + secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(code, open_id, scope or account.scope, redirect_uri)
        self._secrets.append(code)
        return code

    def issue_token(self, open_id: str = "open-1", scope: str | None = None) -> Grant:
        """Issue tokens directly, as if the user had gone through consent."""
        account = self.users[open_id]
        return self._new_grant(open_id, scope or account.scope)

    def token_reply(self, open_id: str = "open-1") -> Reply:
        """A token endpoint success for a freshly issued grant, to script a refresh's answer."""
        return Reply(200, self._token_json(self.issue_token(open_id)))

    def expire_access_token(self, token: str) -> None:
        """Make an access token invalid; its refresh token keeps working."""
        self._by_access[token].access_expires_at = 0

    def revoke_user(self, open_id: str) -> None:
        """Invalidate every token of `open_id` (the user disconnected the app)."""
        for grant in self.grants:
            if grant.open_id == open_id:
                grant.access_revoked = grant.refresh_revoked = True

    def add_upload(
        self,
        publish_id: str,
        open_id: str = "open-1",
        status: str = "PROCESSING_DOWNLOAD",
        fail_reason: str | None = None,
        downloaded_bytes: int = 0,
        cancellable: bool = True,
    ) -> Upload:
        """Add a publish task. `cancellable=False` models a download nearly done."""
        upload = Upload(publish_id, open_id, status, fail_reason, downloaded_bytes, cancellable)
        self.uploads[publish_id] = upload
        return upload

    def set_status(self, publish_id: str, status: str, fail_reason: str | None = None) -> None:
        upload = self.uploads[publish_id]
        upload.status = status
        upload.fail_reason = fail_reason

    def cancel_outcome(
        self,
        publish_id: str,
        status: str = "FAILED",
        fail_reason: str | None = "publish_cancelled",
        post_ids: list[int] | None = None,
    ) -> Upload:
        """How a cancel TikTok accepted ended: stopped (the default), or posted (`status=
        "PUBLISH_COMPLETE"`) or sent to the inbox (`"SEND_TO_USER_INBOX"`) anyway."""
        upload = self.uploads[publish_id]
        upload.status = status
        upload.fail_reason = fail_reason if status == "FAILED" else None
        if post_ids is not None:
            upload.post_ids = list(post_ids)
        return upload

    # -- scripting -------------------------------------------------------------------

    def script(self, name: str, *replies: Reply) -> None:
        """Queue replies for an endpoint; each request pops one before the default."""
        if name not in PATHS:
            raise ValueError(f"unknown endpoint {name!r}; expected one of {sorted(PATHS)}")
        self._scripts[name].extend(replies)

    def script_error(
        self, name: str, http_status: int, code: str, message: str = "", times: int = 1
    ) -> None:
        """Queue an error reply in the endpoint's shape (OAuth shape for token/revoke)."""
        for _ in range(times):
            if name in OAUTH_ENDPOINTS:
                body: dict[str, Any] = oauth_error(code, message or code)
            else:
                body = envelope_error(code, message or None)
            self.script(name, Reply(status=http_status, json=body))

    def hold(self, name: str, **match: str) -> Hold:
        """Hold requests to `name` (whose body has `match`'s fields) until `release()`.

        `hold("token", grant_type="refresh_token")` parks refreshes but lets a code exchange
        through, so a test can relink or disconnect while a refresh is on its way.
        """
        if name not in PATHS:
            raise ValueError(f"unknown endpoint {name!r}; expected one of {sorted(PATHS)}")
        held = Hold(name, dict(match))
        self._holds.append(held)
        return held

    def pending_scripts(self, name: str) -> int:
        """How many scripted replies are still queued for `name`."""
        return len(self._scripts[name])

    def unscript(self, name: str) -> int:
        """Drop the replies still queued for `name`; how many were dropped."""
        dropped = len(self._scripts[name])
        self._scripts[name].clear()
        return dropped

    # -- inspection ------------------------------------------------------------------

    def calls_to(self, name_or_suffix: str) -> list[Call]:
        """Calls to an endpoint by name ("cancel") or by path suffix."""
        return [
            c for c in self.calls if c.name == name_or_suffix or c.path.endswith(name_or_suffix)
        ]

    def grant_for(self, token: str) -> Grant | None:
        """The grant an access or refresh token belongs to, valid or not."""
        return self._by_access.get(token) or self._by_refresh.get(token)

    def is_access_valid(self, token: str) -> bool:
        return self._valid_access(token) is not None

    def all_secrets(self) -> list[str]:
        """Every client secret, code, access and refresh token this fake handed out."""
        return list(self._secrets)

    def sign_webhook(self, body: bytes, t: int | None = None) -> str:
        """The `TikTok-Signature` header value for `body`: ``t=<ts>,s=<hex>``."""
        ts = int(time.time()) if t is None else t
        digest = hmac.new(
            self.client_secret.encode(), f"{ts}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return f"t={ts},s={digest}"

    def webhook_body(
        self, event: str, content: dict[str, Any], user_openid: str = "open-1"
    ) -> bytes:
        """A webhook body; `content` is JSON-encoded into a string, as TikTok does."""
        return json.dumps(
            {
                "client_key": self.client_key,
                "event": event,
                "create_time": int(time.time()),
                "user_openid": user_openid,
                "content": json.dumps(content),
            }
        ).encode()

    # -- tokens ----------------------------------------------------------------------

    def _new_grant(self, open_id: str, scope: str) -> Grant:
        now = self.clock()
        grant = Grant(
            open_id=open_id,
            scope=scope,
            access_token="act." + secrets.token_urlsafe(32),
            refresh_token="rft." + secrets.token_urlsafe(32),
            access_expires_at=now + self.access_ttl,
            refresh_expires_at=now + self.refresh_ttl,
        )
        self.grants.append(grant)
        self._by_access[grant.access_token] = grant
        self._by_refresh[grant.refresh_token] = grant
        self._secrets += [grant.access_token, grant.refresh_token]
        return grant

    def _valid_access(self, token: str | None) -> Grant | None:
        grant = self._by_access.get(token or "")
        if grant is None or grant.access_revoked or grant.access_expires_at <= self.clock():
            return None
        return grant

    def _valid_refresh(self, token: str) -> Grant | None:
        grant = self._by_refresh.get(token)
        if grant is None or grant.refresh_revoked or grant.refresh_expires_at <= self.clock():
            return None
        return grant

    def _token_json(self, grant: Grant) -> dict[str, Any]:
        return {
            "open_id": grant.open_id,
            "scope": grant.scope,
            "access_token": grant.access_token,
            "expires_in": self.access_ttl,
            "refresh_token": grant.refresh_token,
            "refresh_expires_in": self.refresh_ttl,
            "token_type": "Bearer",
        }

    # -- HTTP ------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        handlers: dict[str, Callable[[Call], Reply]] = {
            "token": self._token,
            "revoke": self._revoke,
            "user_info": self._user_info,
            "cancel": self._cancel,
            "status": self._status,
            "creator_info": self._creator_info,
            "init": self._init,
        }
        for name, path in PATHS.items():
            method = "GET" if name == "user_info" else "POST"
            app.router.add_route(method, path, self._endpoint(name, handlers[name]))
        return app

    def _endpoint(
        self, name: str, default: Callable[[Call], Reply]
    ) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = await self._record(name, request)
            for held in [h for h in self._holds if h.matches(name, call.body)]:
                if not held.released.is_set():
                    held.held += 1
                    held.arrived.set()
                    await held.released.wait()
            queue = self._scripts[name]
            scripted = bool(queue)
            try:
                reply = queue.popleft() if scripted else default(call)
            except Rejected as rejected:
                reply = rejected.reply
            if name == "cancel" and not scripted and self.cancel_latency_s:
                reply.delay += self.cancel_latency_s
            call.status, call.response = reply.status, reply.json
            return await send_reply(request, reply)

        return handle

    async def _record(self, name: str, request: web.Request) -> Call:
        raw = await request.read()
        body: dict[str, Any] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            body = dict((await request.post()).items())  # type: ignore[arg-type]
        elif raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else {"_raw": raw.decode(errors="replace")}
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        call = Call(
            path=request.path,
            method=request.method,
            body=body,
            token=token,
            time=time.monotonic(),
            name=name,
            query=dict(request.query),
            content_type=request.content_type,
        )
        self.calls.append(call)
        return call

    # -- default behaviour: OAuth --------------------------------------------------------

    def _check_client(self, call: Call) -> None:
        if call.body.get("client_key") != self.client_key or not hmac.compare_digest(
            str(call.body.get("client_secret", "")), self.client_secret
        ):
            raise Rejected(401, oauth_error("invalid_client", "Client key or secret is invalid."))

    def _token(self, call: Call) -> Reply:
        if call.content_type != "application/x-www-form-urlencoded":
            return Reply(400, oauth_error("invalid_request", "Body must be form-encoded."))
        self._check_client(call)
        grant_type = call.body.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(call)
        if grant_type == "refresh_token":
            return self._refresh(call)
        return Reply(400, oauth_error("unsupported_grant_type", f"Unsupported: {grant_type!r}."))

    def _exchange_code(self, call: Call) -> Reply:
        code, redirect_uri = call.body.get("code"), call.body.get("redirect_uri")
        if not code or not redirect_uri:
            return Reply(400, oauth_error("invalid_request", "code and redirect_uri are required."))
        auth = self.codes.get(code)
        if auth is None or auth.used:
            return Reply(
                400, oauth_error("invalid_grant", "Authorization code is invalid or used.")
            )
        if auth.redirect_uri is not None and auth.redirect_uri != redirect_uri:
            return Reply(400, oauth_error("invalid_grant", "redirect_uri does not match."))
        auth.used = True
        return Reply(200, self._token_json(self._new_grant(auth.open_id, auth.scope)))

    def _refresh(self, call: Call) -> Reply:
        old = self._valid_refresh(str(call.body.get("refresh_token", "")))
        if old is None:
            return Reply(400, oauth_error("invalid_grant", "Refresh token is invalid or expired."))
        old.access_revoked = old.refresh_revoked = True
        self.refresh_count += 1
        return Reply(200, self._token_json(self._new_grant(old.open_id, old.scope)))

    def _revoke(self, call: Call) -> Reply:
        self._check_client(call)
        token = str(call.body.get("token", ""))
        grant = self.grant_for(token)
        if grant is not None:
            grant.access_revoked = grant.refresh_revoked = True
        self.revoked.append(token)
        return Reply(200, {})

    # -- default behaviour: API ----------------------------------------------------------

    def _authorize(self, call: Call, needed: frozenset[str]) -> Grant:
        grant = self._valid_access(call.token)
        if grant is None:
            raise Rejected(401, envelope_error("access_token_invalid"))
        if not grant.scopes & needed:
            raise Rejected(401, envelope_error("scope_not_authorized"))
        return grant

    def _find_upload(self, call: Call) -> Upload:
        grant = self._authorize(call, POSTING_SCOPES)
        publish_id = call.body.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            raise Rejected(400, envelope_error("invalid_params", "publish_id is required."))
        upload = self.uploads.get(publish_id)
        if upload is None:
            raise Rejected(400, envelope_error("invalid_publish_id"))
        if upload.open_id != grant.open_id:
            raise Rejected(400, envelope_error("token_not_authorized_for_specified_publish_id"))
        return upload

    def _user_info(self, call: Call) -> Reply:
        grant = self._authorize(call, frozenset({"user.info.basic"}))
        fields = [f.strip() for f in call.query.get("fields", "").split(",") if f.strip()]
        if not fields:
            return Reply(400, envelope_error("invalid_params", "fields is required."))
        account = self.users.get(grant.open_id) or Account(grant.open_id, "", grant.scope)
        user = {f: getattr(account, f) for f in fields if f in USER_FIELDS}
        return Reply(200, {"data": {"user": user}, **envelope_error("ok", "")})

    def _cancel(self, call: Call) -> Reply:
        publish_id = str(call.body.get("publish_id") or "")
        if self.cancel_answer is not None:
            reply = self.cancel_answer(publish_id)
            if reply is not None:
                accepted = reply.status == 200 and isinstance(reply.json, dict)
                accepted = accepted and (reply.json.get("error") or {}).get("code") == "ok"
                if accepted and publish_id in self.uploads:
                    self._accept_cancel(self.uploads[publish_id])
                return reply
        upload = self._find_upload(call)
        if upload.status != "PROCESSING_DOWNLOAD" or not upload.cancellable:
            return Reply(400, envelope_error("publish_not_cancellable"))
        self._accept_cancel(upload)
        return Reply(200, envelope_error("ok", ""))

    def _accept_cancel(self, upload: Upload) -> None:
        upload.cancel_requested = True
        if self.settle_cancels:
            self.cancel_outcome(upload.publish_id)
        for hook in self.on_cancel:
            hook(upload)

    def _status(self, call: Call) -> Reply:
        upload = self._find_upload(call)
        data: dict[str, Any] = {"status": upload.status}
        if upload.status == "FAILED":
            data["fail_reason"] = upload.fail_reason or "internal"
        data["publicaly_available_post_id"] = list(upload.post_ids)
        data["downloaded_bytes"] = upload.downloaded_bytes
        return Reply(200, {"data": data, **envelope_error("ok", "")})

    def creator_for(self, open_id: str) -> Creator:
        """The creator_info of `open_id` (made with defaults on first use; edit it freely)."""
        return self.creators.setdefault(open_id, Creator())

    def _creator_info(self, call: Call) -> Reply:
        grant = self._authorize(call, frozenset({"video.publish"}))
        creator = self.creator_for(grant.open_id)
        data = {
            "creator_avatar_url": f"https://p16.tiktokcdn.example/{grant.open_id}.jpeg",
            "creator_username": creator.username,
            "creator_nickname": creator.nickname,
            "privacy_level_options": list(creator.privacy_level_options),
            "comment_disabled": creator.comment_disabled,
            "duet_disabled": creator.duet_disabled,
            "stitch_disabled": creator.stitch_disabled,
            "max_video_post_duration_sec": creator.max_video_post_duration_sec,
        }
        return Reply(200, {"data": data, **envelope_error("ok", "")})

    def _init(self, call: Call) -> Reply:
        """Direct Post init (§11.2): every accepted call makes a new publish task."""
        grant = self._authorize(call, frozenset({"video.publish"}))
        post = call.body.get("post_info")
        source = call.body.get("source_info")
        if not isinstance(post, dict) or not isinstance(source, dict):
            return Reply(400, envelope_error("invalid_param", "post_info and source_info."))
        if source.get("source") != "PULL_FROM_URL" or not source.get("video_url"):
            return Reply(400, envelope_error("invalid_param", "source_info is invalid."))
        creator = self.creator_for(grant.open_id)
        if post.get("privacy_level") not in creator.privacy_level_options:
            return Reply(403, envelope_error("privacy_level_option_mismatch"))
        self.init_count += 1
        publish_id = f"v_pub_url~v2-1.{7_000_000 + self.init_count}"
        self.add_upload(publish_id, grant.open_id)
        return Reply(200, {"data": {"publish_id": publish_id}, **envelope_error("ok", "")})
